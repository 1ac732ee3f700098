"""What the account lists export (issue 14): the columns of accounts and contacts, and the SQL expressions every
export uses for a person's and a bilingual row's name.

Each table function takes a queryset the caller already narrowed to the viewer's visible rows and to the page's (or
the API's) filters and order, and returns a `core.exports.Table` read in one query. Headers are translated when the
table is written, in the viewer's language.
"""

from __future__ import annotations

from django.db.models import CharField, F, QuerySet, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Concat, NullIf
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact
from core.exports import Column, Kind, Table, queryset_table


def person_name(path: str) -> Combinable:
    """A user's display name (family name + given name, else the username) read in SQL from the user at `path`."""
    full = Concat(F(f"{path}__last_name"), F(f"{path}__first_name"), output_field=CharField())
    return Coalesce(NullIf(full, Value("")), F(f"{path}__username"), output_field=CharField())


def localized_name(path: str, *, zh: str = "name", en: str = "name_en") -> Combinable | str:
    """The Chinese or English name of the row at `path` in the active language (English falls back to Chinese)."""
    prefix = f"{path}__" if path else ""
    if get_language() == "en":
        return Coalesce(NullIf(F(f"{prefix}{en}"), Value("")), F(f"{prefix}{zh}"), output_field=CharField())
    return f"{prefix}{zh}"


def account_table(*, queryset: QuerySet[Account], with_activity: bool = False, **kwargs) -> Table:
    """The accounts of the queryset, in its order, one row each; one query. `with_activity` adds the account list's
    open opportunities and last completed visit, which the queryset must annotate (`open_opportunities`,
    `last_visit_at`)."""
    columns = [
        Column(_("Account"), "name"),
        Column(_("Owner"), person_name("owner")),
        Column(_("Region"), localized_name("region")),
        Column(_("Industry"), localized_name("industry")),
        Column(_("Employees"), "employee_count", Kind.INT),
        Column(_("Target account"), "is_target", Kind.BOOL),
        Column(_("Target since"), "target_since", Kind.DATE),
        Column(_("Headquarters"), "is_headquarters", Kind.BOOL),
        Column(_("Address"), "address"),
        Column(_("External key"), "external_key"),
        Column(_("Created at"), "created_at", Kind.DATETIME),
        Column(_("ID"), "pk", Kind.INT),
    ]
    if with_activity:
        columns[5:5] = [
            Column(_("Open opportunities"), "open_opportunities", Kind.INT),
            Column(_("Last visit"), "last_visit_at", Kind.DATETIME),
        ]
    return queryset_table(name="accounts", filename="accounts", queryset=queryset, columns=columns, **kwargs)


def contact_table(*, queryset: QuerySet[Contact], **kwargs) -> Table:
    """The contacts of the queryset, in its order, one row each; one query."""
    columns = [
        Column(_("Full name"), "name"),
        Column(_("Account"), "account__name"),
        Column(_("Title"), "title"),
        Column(_("Department"), "department"),
        Column(_("Phone"), "phone"),
        Column(_("Email"), "email"),
        Column(_("Buying role"), "buying_role", labels=dict(Contact.BuyingRole.choices)),
        Column(_("Communication style"), "communication_style", labels=dict(Contact.CommunicationStyle.choices)),
        Column(_("Birthday"), "birthday", Kind.DATE),
        Column(_("Created at"), "created_at", Kind.DATETIME),
        Column(_("ID"), "pk", Kind.INT),
    ]
    return queryset_table(name="contacts", filename="contacts", queryset=queryset, columns=columns, **kwargs)
