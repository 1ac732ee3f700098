"""Forms of the pipeline pages, one module per page area; they check shape and types only, services decide the rules.

- `accounts`: the account pages (account, contact, account list filters)
- `opportunities`: the board and the opportunity pages (filters, move, win/lose, create/edit)
- `visits`: the visit pages (log, plan, complete, list filters, week comments)
"""
