"""The management commands `import_contacts`, `import_installed_base`, `import_account_years` and `import_targets`
(issue 14): one base class over the kinds' importers; `run_and_report` gives them and `import_accounts` the same
output and exit codes (the bad rows on stderr and a non-zero exit, nothing written)."""

from __future__ import annotations

from argparse import RawDescriptionHelpFormatter
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from accounts.models import User
from pipeline.importing.common import ImportResult
from pipeline.importing.kinds import KINDS
from pipeline.importing.reading import ImportRejected, read_rows


def help_text(code: str, what: str) -> str:
    """The command's --help: what it imports, how, and the kind's columns with every accepted header."""
    columns = KINDS[code].columns
    required = set(columns.required)
    lines = [
        f"  {column} / {' / '.join(aliases[1:])}{' - required' if column in required else ''}"
        for column, aliases in columns.aliases.items()
    ]
    if columns.one_of:
        lines.append(f"  (at least one of: {', '.join(columns.one_of)})")
    return (
        f"Imports {what}, from a CSV (UTF-8 or GBK/GB18030) or an XLSX file (first sheet), all or nothing: if any row "
        "is invalid, every error is listed (row number as in the spreadsheet, column) and nothing is written. "
        "Importing the same file twice changes nothing. Row 1 holds the column names, in English or Chinese:\n\n"
        + "\n".join(lines)
    )


def run_and_report(command: BaseCommand, *, file: str, dry_run: bool, run: Callable[[], ImportResult]) -> ImportResult:
    """Runs an import for a command and writes its outcome, the same for every kind: the counts (or what a dry run
    would do) and the warnings on stdout; an unreadable file, or every bad row on stderr, as a CommandError (exit 1)
    with nothing written."""
    try:
        result = run()
    except OSError as error:
        message = gettext("Cannot read %(file)s: %(error)s") % {"file": file, "error": error.strerror}
        raise CommandError(message) from error
    except ImportRejected as rejected:
        for error in rejected.errors:
            command.stderr.write(str(error))
        raise CommandError(str(rejected)) from None
    for warning in result.warnings:
        command.stdout.write(gettext("Warning: %(warning)s") % {"warning": warning})
    counts = {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    if dry_run:
        command.stdout.write(
            gettext("Dry run: would create %(created)d, update %(updated)d, unchanged %(unchanged)d; nothing written.")
            % counts
        )
    else:
        command.stdout.write(gettext("Created %(created)d, updated %(updated)d, unchanged %(unchanged)d.") % counts)
    return result


class ImportCommand(BaseCommand):
    kind = ""  # a key of KINDS
    needs_by = False  # whether --by (the user the import acts as) is required

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter  # keep the column table's layout
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument("--dry-run", action="store_true", help="check the file and count; write nothing")
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            required=self.needs_by,
            help="the user the import acts as (recorded in the change history; their rules apply)",
        )

    def handle(self, *args, file: str, dry_run: bool, by: str | None, **options):
        kind = KINDS[self.kind]
        imported_by = None
        if by is not None:
            imported_by = User.objects.filter(username=by, is_active=True).first()
            if imported_by is None:
                raise CommandError(gettext("--by %(username)s: no active user with that username.") % {"username": by})
        run_and_report(
            self,
            file=file,
            dry_run=dry_run,
            run=lambda: kind.run(
                rows=read_rows(file, kind.columns), dry_run=dry_run, imported_by=imported_by, progress=None
            ),
        )
