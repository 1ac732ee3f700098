"""Every write on opportunities, accounts' handover and visits, and the rules they enforce (SPEC §3–§5), one module
per topic; import each service from its module:

- `opportunities`: create an opportunity (live) or record a closed one after the fact, edit its fields (and owner),
  fill in a manual exit criterion.
- `moves`: move between stages, win, lose, reopen; whether a loss is untouched; the follow-ups a win plans.
- `reassignment`: give an opportunity or an account (with its open work) to another owner; hand over accounts in bulk.
- `accounts`: edit an account, profile and owner in one write.
- `visits`: plan, log, complete, change and cancel visits.
- `planning`: comments on a rep's week of visits.
- `_common`: the helpers the modules share (loading under the optimistic lock, compare-and-set, cleaning values,
  stage rules, the acting user's language); internal to this package.

Each service takes keyword-only arguments, runs in one transaction and raises a `SalesFlowError` subclass, in which
case it wrote nothing. Callers load records through `.visible_to(user)`; services check visibility again, so an
API and a page cannot drift apart. `expected_version` is the optimistic-lock token a form or API client sent; when
it is None the version of the instance passed in is used, so a stale instance is refused just the same.
Services run in the acting user's language: refusals (and any text they store, such as a follow-up's purpose)
read in that language.
"""
