"""Every analytics read of SPEC §6–§7 that a page, the API, an export or a digest shows; nothing here writes.

Each selector starts from the viewer's visibility, runs a fixed number of queries (said in its docstring, pinned
by a test) whatever the amount of data, and leaves medians, pivots and ratios to pandas and Python.
Periods given as `start`/`end` dates include both days, in the company's time zone.

One module per metric family; import each name from its module (this package re-exports nothing):

- `_common`: the viewer's scope, money rounding, period bounds, `visible_teams`, `job_computed_at`
- `funnel`: funnel snapshot (per scope or per owner), its totals, funnel flow of a period
- `outcomes`: win rate, untouched losses
- `activity`: visits per rep and week, visits against wins
- `matrix`: the stored CV/PV matrix, an account's values over the years
- `coverage`: untouched target accounts, target coverage, stale opportunities (and shortlists: first rows and count)
- `attainment`: attainment of sales targets, stability of monthly attainment
- `territory`: territory analysis over five dimensions (`TERRITORY_DIMENSIONS`)
- `pages`: what the pages need beyond the metrics (visit agenda, team people, matrix years, team overview)
- `targets`: the targets page's pivot of owners × periods, one page of owners at a time
- `cvpv`: the stored matrix in bounded pieces (counts and transitions, a page of accounts, a chart with density bins)
- `teams`: numbers per team in one grouped query each, for a director's summaries
"""
