"""Every read a pipeline page, API, export or digest shows, one module per topic; selectors never write.

- `opportunities`: the board and the opportunity pages (filters, board columns, stage path, history)
- `accounts`: the account page, the account list and the account search
- `visits`: the visit list and the visits still to do today
- `planning`: the visit plan (week view), week comments and plan adherence
"""
