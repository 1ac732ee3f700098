"""manage.py import_accounts FILE [--dry-run] [--owner USERNAME] [--by USERNAME] — accounts from a CSV or XLSX file."""

from argparse import RawDescriptionHelpFormatter

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from accounts.models import User
from pipeline.importing.accounts import import_accounts
from pipeline.importing.command import run_and_report
from pipeline.importing.reading import read_rows

HELP = """\
Creates or updates accounts from a CSV (UTF-8, with or without BOM, or GBK/GB18030 as Excel saves it in China) or
an XLSX file (first sheet). Row 1 holds the column names, in English or Chinese, in any order; only external_key is
required as a column. Each account is found again by its external key, so importing the same file twice changes
nothing. All or nothing: if any row is invalid, every error is listed (row number as in the spreadsheet, column)
and nothing is written.

Columns (English / 中文 header; either is accepted):
  external_key / 外部编号 - required on every row; unique in the file
  name / 客户名称 - required for a new account
  industry / 行业 - industry code, Chinese or English name
  employee_count / 员工人数 - whole number (1,200 is fine)
  region / 区域 - region code, Chinese or English name (the code when a name is ambiguous)
  address / 地址
  owner / 负责人 - username of an active sales rep or manager; empty on a new account: --owner
  is_target / 目标客户 - 是/否, yes/no, true/false, 1/0
  target_since / 成为目标日期 - YYYY-MM-DD, YYYY/MM/DD, 2024年3月5日 or an Excel date; targets only
      (empty: the date is kept, or today for a new target)
  parent_external_key / 总部编号 - external key of the headquarters, in this file or already imported
  is_headquarters / 总部 - 是/否; an account with branches is a headquarters anyway
  notes / 备注

A text cell starting like a spreadsheet formula (=, +, - or @) is stored as text behind an apostrophe ('=1+1) and
listed as a warning. A file larger than IMPORT_MAX_BYTES (20 MB by default) is refused before it is read.

A column missing from the file leaves that field as it is. An empty cell clears the field, except name and owner,
which stay as they are. Changing the owner of an existing account is recorded as a reassignment by the director
given with --by, and the previous owner's open opportunities and planned visits at the account follow it.
"""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter  # keep the column table's layout
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument("--dry-run", action="store_true", help="check the file and count; write nothing")
        parser.add_argument("--owner", metavar="USERNAME", help="owner of new accounts whose owner cell is empty")
        parser.add_argument(
            "--by", metavar="USERNAME", help="the director recorded as making the owner changes (reassignments)"
        )

    def handle(self, *args, file: str, dry_run: bool, owner: str | None, by: str | None, **options):
        default_owner = self._user(owner, option="--owner", roles=(User.Role.REP, User.Role.MANAGER))
        imported_by = self._user(by, option="--by", roles=(User.Role.DIRECTOR,))
        result = run_and_report(
            self,
            file=file,
            dry_run=dry_run,
            run=lambda: import_accounts(
                rows=read_rows(file), dry_run=dry_run, default_owner=default_owner, imported_by=imported_by
            ),
        )
        if dry_run:
            return
        if result.reassigned:
            self.stdout.write(
                ngettext(
                    "%(count)d account changed owner (recorded as a reassignment).",
                    "%(count)d accounts changed owner (recorded as reassignments).",
                    result.reassigned,
                )
                % {"count": result.reassigned}
            )

    def _user(self, username: str | None, *, option: str, roles: tuple[str, ...]) -> User | None:
        if username is None:
            return None
        user = User.objects.filter(username=username, is_active=True, role__in=roles).first()
        if user is None:
            raise CommandError(
                gettext("%(option)s %(username)s: no active user with that username and role (%(roles)s).")
                % {"option": option, "username": username, "roles": ", ".join(roles)}
            )
        return user
