"""Account pages: the account list, what the account page shows from pipeline (profile, contacts, installed base,
opportunities, visit timeline; the page itself is analytics/views/accounts.py, which adds the matrix values), account
create/edit, contact create/edit and recording a competitor's win at the account.

Every record is loaded through `visible_to(request.user)`: what the user may not see answers 404, htmx endpoints
included. An account seen through an opportunity or a visit at it is read-only: its page shows, while its edit,
contact and archive pages load through `editable_by(request.user)` and answer 404. Writes go through
accounts/services.py, and an account edit through edit_account, which also reassigns the account when its owner
changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts.facts import StyleAdvice, communication_advice
from accounts.models import Account, Contact, User
from accounts.services import (
    archive_account,
    archive_contact,
    assignable_owners,
    create_account,
    create_contact,
    restore_account,
    restore_contact,
    update_contact,
)
from core.calendar import day_start
from core.errors import SalesFlowError
from core.forms import add_service_error
from core.views import is_quick_add, quick_add_form, quick_added
from pipeline.forms.accounts import AccountFilterForm, AccountForm, ContactForm, QuickContactForm
from pipeline.forms.opportunities import CompetitorWinForm
from pipeline.models import Opportunity
from pipeline.selectors.accounts import account_contacts, account_page, accounts_for_list
from pipeline.services.accounts import edit_account
from pipeline.services.opportunities import record_closed_opportunity
from pipeline.views.account_rows import opportunity_rows, timeline_rows

ACCOUNTS_PER_PAGE = 25


@dataclass(frozen=True)
class ContactCard:
    contact: Contact
    role_label: str
    style_label: str
    advice: StyleAdvice | None


@dataclass(frozen=True)
class StyleGuideEntry:
    label: str
    advice: StyleAdvice


def _contact_cards(contacts: list[Contact]) -> list[ContactCard]:
    """Each contact with its buying role's and communication style's labels (each label translated once) and the
    decks' advice for its style."""
    roles = {value: str(label) for value, label in Contact.BuyingRole.choices}
    styles = {value: str(label) for value, label in Contact.CommunicationStyle.choices}
    return [
        ContactCard(
            contact=c,
            role_label=roles.get(c.buying_role, c.buying_role),
            style_label=styles.get(c.communication_style, c.communication_style),
            advice=communication_advice(c.communication_style),
        )
        for c in contacts
    ]


def _style_guide() -> list[StyleGuideEntry]:
    """The decks' advice for each communication style, shown beside the contact form."""
    return [
        StyleGuideEntry(label=str(label), advice=communication_advice(value))
        for value, label in Contact.CommunicationStyle.choices
    ]


def listed_accounts(request: HttpRequest) -> tuple[AccountFilterForm, dict, QuerySet[Account]]:
    """The list's filter form, its valid filters and the visible accounts they select, in the list's order (the list
    and its export)."""
    owners = User.objects.visible_to(request.user).filter(is_active=True).order_by("username")
    form = AccountFilterForm(request.GET or None, owners=owners)
    filters = form.cleaned_data if form.is_valid() else {}
    accounts = accounts_for_list(
        viewer=request.user,
        q=filters.get("q") or "",
        owner=filters.get("owner"),
        region=filters.get("region"),
        industry=filters.get("industry"),
        is_target=filters.get("is_target"),
        size_band=filters.get("size_band") or "",
        sort=filters.get("sort") or "name",
    )
    return form, filters, accounts


@login_required
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    """The visible accounts with search, filters, sorting and pagination."""
    form, filters, accounts = listed_accounts(request)
    page = Paginator(accounts, ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
    active_filters = sum(1 for name in ("owner", "region", "industry", "size_band") if filters.get(name))
    active_filters += filters.get("is_target") is not None
    context = {
        "form": form,
        "page_obj": page,
        "accounts": page.object_list,
        "active_filters": active_filters + len(form.errors),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "accounts/list.html#results", context)
    return render(request, "accounts/list.html", context)


def account_page_context(request: HttpRequest, pk: int) -> dict:
    """What the account page shows from accounts and pipeline: profile, contacts with how to handle them, installed
    base, opportunities, visits; 404 for an account the user may not see. The page itself composes this with the
    account's matrix values and lives in analytics (analytics/views/accounts.py)."""
    page = account_page(viewer=request.user, pk=pk, changes_page=request.GET.get("changes"))
    if page is None:
        raise Http404
    return {
        "page": page,
        "account": page.account,
        "can_edit": page.account.is_editable,
        "contact_cards": _contact_cards(page.contacts),
        "timeline_rows": timeline_rows(page.visits, back=request.path),
        "open_opportunity_rows": opportunity_rows(page.open_opportunities),
        "closed_opportunity_rows": opportunity_rows(page.closed_opportunities),
        "archived_contacts": page.archived_contacts,
    }


@login_required
@require_http_methods(["GET", "POST"])
def competitor_win(request: HttpRequest, pk: int) -> HttpResponse:
    """Records a competitor's win at an account the user may edit (its owner, or their manager or a director), as an
    opportunity created lost to that competitor; it lands on the account page."""
    account = get_object_or_404(Account.objects.editable_by(request.user).active(), pk=pk)
    form = CompetitorWinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record_closed_opportunity(
                created_by=request.user,
                account=account,
                owner=account.owner,
                name=_("%(competitor)s won at %(account)s") % {"competitor": data["lost_to"], "account": account.name},
                status=Opportunity.Status.LOST,
                closed_at=day_start(data["closed_on"]),
                amount=data["amount"] or 0,
                loss_reason=data["loss_reason"],
                lost_to=data["lost_to"],
                untouched_cause=data["untouched_cause"],
            )
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Competitor's win recorded."))
            return redirect(account)
    return render(request, "pipeline/competitor_win_form.html", {"form": form, "account": account})


def _account_values(form: AccountForm) -> dict:
    values = dict(form.cleaned_data)
    values.pop("owner", None)
    return values


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    """Creates an account: a rep for themself, a manager for themself or their team, a director for anyone."""
    owners = None if request.user.is_rep else assignable_owners(user=request.user).order_by("username")
    form = AccountForm(request.POST or None, user=request.user, owners=owners)
    if request.method == "POST" and form.is_valid():
        try:
            account = create_account(
                created_by=request.user, owner=form.cleaned_data.get("owner"), **_account_values(form)
            )
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Account created."))
            return redirect(account)
    return render(request, "accounts/form.html", {"form": form, "account": None})


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Changes an account's profile; a manager or director may also give it to another owner (reassignment)."""
    account = get_object_or_404(Account.objects.editable_by(request.user), pk=pk)
    owners = None if request.user.is_rep else assignable_owners(user=request.user).order_by("username")
    form = AccountForm(request.POST or None, instance=account, user=request.user, owners=owners)
    if request.method == "POST" and form.is_valid():
        try:
            account = edit_account(
                account=account, changed_by=request.user, owner=form.cleaned_data.get("owner"), **_account_values(form)
            )
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Account saved."))
            return redirect(account)
    return render(request, "accounts/form.html", {"form": form, "account": account})


def _contacts_response(request: HttpRequest, account: Account) -> HttpResponse:
    """The account page's contacts section, replacing the one on the page (htmx)."""
    contacts, archived_contacts = account_contacts(account)
    context = {
        "account": account,
        "can_edit": True,  # reached only through editable_by
        "contact_cards": _contact_cards(contacts),
        "archived_contacts": archived_contacts,
    }
    response = render(request, "accounts/detail.html#contacts", context)
    return reswap(retarget(response, "#contacts"), "outerHTML")


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Adds a contact to an account the user may change; from the account page (htmx) the form opens in place."""
    account = get_object_or_404(Account.objects.editable_by(request.user), pk=pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            create_contact(created_by=request.user, account=account, **form.cleaned_data)
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            if request.htmx:
                return _contacts_response(request, account)
            messages.success(request, _("Contact added."))
            return redirect(account)
    context = {"form": form, "account": account, "contact": None, "style_guide": _style_guide()}
    if request.htmx:
        return render(request, "accounts/contact_form.html#form", context)
    return render(request, "accounts/contact_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contact_quick_create(request: HttpRequest) -> HttpResponse:
    """Adds a contact to any account the user may change, chosen in the form (the header's quick add).

    In the quick-add dialog (htmx, `?dialog=1`) errors come back into the dialog and a success answers with a toast;
    without JavaScript it is a page that redirects to the account.
    """
    form = QuickContactForm(request.POST or None, user=request.user, initial={"account": request.GET.get("account")})
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        account = fields.pop("account")
        try:
            contact = create_contact(created_by=request.user, account=account, **fields)
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            message = _("Contact “%(name)s” added to %(account)s.") % {"name": contact.name, "account": account.name}
            if is_quick_add(request):
                return quick_added(message, kind="contact", pk=contact.pk, url=account.get_absolute_url())
            messages.success(request, message)
            return redirect(account)
    title, action = _("New contact"), reverse("accounts:contact_quick_create")
    if is_quick_add(request):
        return quick_add_form(request, form, title=title, action=action, submit_label=_("Add contact"))
    return render(request, "accounts/contact_quick_form.html", {"form": form, "title": title})


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Changes a contact of an account the user may change; from the account page (htmx) the form opens in place."""
    contact = get_object_or_404(
        Contact.objects.editable_by(request.user).select_related("account"), pk=contact_pk, account_id=pk
    )
    account = contact.account
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            update_contact(contact=contact, changed_by=request.user, **form.cleaned_data)
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            if request.htmx:
                return _contacts_response(request, account)
            messages.success(request, _("Contact saved."))
            return redirect(account)
    context = {"form": form, "account": account, "contact": contact, "style_guide": _style_guide()}
    if request.htmx:
        return render(request, "accounts/contact_form.html#form", context)
    return render(request, "accounts/contact_form.html", context)


# --- archiving: nothing is deleted ----------------------------------------------------------------------------


@login_required
@require_POST
def account_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Archives an account (managers, directors): it leaves lists and pickers; its page and history stay."""
    account = get_object_or_404(Account.objects.editable_by(request.user), pk=pk)
    try:
        archive_account(account=account, archived_by=request.user)
    except SalesFlowError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Account archived. It no longer shows in lists and pickers; its history stays."))
    return redirect(account)


@login_required
@require_POST
def account_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Restores an archived account (managers, directors)."""
    account = get_object_or_404(Account.objects.editable_by(request.user), pk=pk)
    try:
        restore_account(account=account, restored_by=request.user)
    except SalesFlowError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Account restored."))
    return redirect(account)


def _contact_archiving(request: HttpRequest, pk: int, contact_pk: int, *, archive: bool) -> HttpResponse:
    contact = get_object_or_404(
        Contact.objects.editable_by(request.user).select_related("account"), pk=contact_pk, account_id=pk
    )
    try:
        if archive:
            archive_contact(contact=contact, archived_by=request.user)
        else:
            restore_contact(contact=contact, restored_by=request.user)
    except SalesFlowError as error:
        if request.htmx:
            return HttpResponse(str(error.message), status=error.status)
        messages.error(request, str(error.message))
        return redirect(contact.account)
    if request.htmx:
        return _contacts_response(request, contact.account)
    messages.success(request, _("Contact archived.") if archive else _("Contact restored."))
    return redirect(contact.account)


@login_required
@require_POST
def contact_archive(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Archives a contact who left the customer; from the account page (htmx) answers with the contacts section."""
    return _contact_archiving(request, pk, contact_pk, archive=True)


@login_required
@require_POST
def contact_restore(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Restores an archived contact; from the account page (htmx) answers with the contacts section."""
    return _contact_archiving(request, pk, contact_pk, archive=False)
