"""manage.py import_account_years FILE [--dry-run] [--by USERNAME] — yearly figures from a CSV or XLSX file."""

from pipeline.importing.command import ImportCommand, help_text


class Command(ImportCommand):
    kind = "account_years"
    needs_by = False
    help = help_text(kind, "yearly figures of accounts (other revenue, potential value), keyed by account and year")
