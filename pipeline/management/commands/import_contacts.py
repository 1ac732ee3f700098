"""manage.py import_contacts FILE [--dry-run] [--by USERNAME] — contacts from a CSV or XLSX file."""

from pipeline.importing.command import ImportCommand, help_text


class Command(ImportCommand):
    kind = "contacts"
    needs_by = False
    help = help_text(kind, "contacts, keyed by their account's external key and their own external key or name")
