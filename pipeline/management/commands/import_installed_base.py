"""manage.py import_installed_base FILE [--dry-run] [--by USERNAME] — installed base from a CSV or XLSX file."""

from pipeline.importing.command import ImportCommand, help_text


class Command(ImportCommand):
    kind = "installed_base"
    needs_by = False
    help = help_text(kind, "installed base, keyed by account, vendor, product and year installed")
