"""Imports from spreadsheets (SPEC §9 `import_accounts`, issue 14): accounts, contacts, installed base, yearly figures
and targets, each all or nothing and keyed so that a re-import changes nothing.

- `reading`: a CSV (UTF-8 or GBK/GB18030) or XLSX file into rows, a kind's `Columns`, cell cleaning, RowError and
  ImportRejected; `cells`: the further cleaners (money, ranges, choices, email)
- `common`: the result, row parsing with progress, and what the kinds share
- `accounts`, `contacts`, `installed_base`, `account_years`, `targets`: one importer per kind
- `kinds`: the kinds with who may import them; `workbook`: a kind's XLSX template; `command`: the import commands
"""
