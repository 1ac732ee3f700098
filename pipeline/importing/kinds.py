"""The import kinds (issue 14): for each, its columns, the function that imports its rows, an example row for the
template, and who may import it.

Directors import every kind. Managers import targets only, and of those only the ones the target rules let them set
(their own reps'); every other kind changes company-wide reference data (accounts and their owners, figures from
billing) that only a director loads. Reps import nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from pipeline.importing import account_years, contacts, installed_base, targets
from pipeline.importing.accounts import import_accounts
from pipeline.importing.common import ImportResult
from pipeline.importing.reading import ACCOUNT_COLUMNS, Columns


@dataclass(frozen=True)
class Kind:
    code: str
    label: Promise
    columns: Columns
    run: Callable[..., ImportResult]  # (rows=, dry_run=, imported_by=, progress=) → ImportResult
    example: list[Any]
    roles: tuple[str, ...] = (User.Role.DIRECTOR,)

    def may_import(self, user: User) -> bool:
        return user.is_active and (user.role in self.roles or user.is_superuser)


def _accounts(**kwargs: Any) -> ImportResult:
    """Accounts from the browser: a new account's owner comes from its row (there is no default owner)."""
    return import_accounts(default_owner=None, **kwargs)


KINDS: dict[str, Kind] = {
    kind.code: kind
    for kind in (
        Kind(
            "accounts",
            _("Accounts"),
            ACCOUNT_COLUMNS,
            _accounts,
            ["C001", "华东机械有限公司", "mfg", 350, "SH", "上海市浦东新区", "rep1", "是", "2024-03-05", "", "否", ""],
        ),
        Kind("contacts", _("Contacts"), contacts.COLUMNS, contacts.import_contacts, contacts.EXAMPLE),
        Kind(
            "installed_base",
            _("Installed base"),
            installed_base.COLUMNS,
            installed_base.import_installed_base,
            installed_base.EXAMPLE,
        ),
        Kind(
            "account_years",
            _("Yearly figures"),
            account_years.COLUMNS,
            account_years.import_account_years,
            account_years.EXAMPLE,
        ),
        Kind(
            "targets",
            _("Targets"),
            targets.COLUMNS,
            targets.import_targets,
            targets.EXAMPLE,
            roles=(User.Role.DIRECTOR, User.Role.MANAGER),
        ),
    )
}


def kinds_for(user: User) -> list[Kind]:
    """The kinds `user` may import, in the menu's order."""
    return [kind for kind in KINDS.values() if kind.may_import(user)]
