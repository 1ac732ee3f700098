"""manage.py import_targets FILE [--dry-run] [--by USERNAME] — targets from a CSV or XLSX file."""

from pipeline.importing.command import ImportCommand, help_text


class Command(ImportCommand):
    kind = "targets"
    needs_by = True
    help = help_text(
        kind, "sales targets of users or teams, keyed by owner, period type and period start (--by required)"
    )
