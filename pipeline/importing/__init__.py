"""Account import from a spreadsheet (SPEC §9 `import_accounts`).

- `reading`: a CSV (UTF-8 or GBK/GB18030) or XLSX file into rows, cell cleaning, RowError and ImportRejected
- `accounts`: validating the rows against the database and creating or updating the accounts, all or nothing
"""
