"""Exports of the pipeline lists (issue 14): opportunities, accounts, contacts and visits as XLSX or CSV.

Each export selects what its list page selects (the same filter form, the same `visible_to(request.user)`, the same
order), without paging: `?format=xlsx` (the default) or `csv`, `&encoding=gbk` for a GBK CSV, and the page's query
string. core/exports.py writes the file and records the export.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_GET

from accounts.exports import account_table, contact_table
from accounts.models import Account, Contact
from core.api import parse_pk
from core.exports import download
from pipeline.exports import opportunity_table, visit_table
from pipeline.views.accounts import listed_accounts
from pipeline.views.opportunities import listed_opportunities
from pipeline.views.visits import listed_visits


@login_required
@require_GET
def opportunity_export(request: HttpRequest) -> HttpResponseBase:
    """The opportunity list's rows, every page of them."""
    _form, rows = listed_opportunities(request)
    return download(request, opportunity_table(queryset=rows))


@login_required
@require_GET
def account_export(request: HttpRequest) -> HttpResponseBase:
    """The account list's rows, every page of them."""
    _form, _filters, rows = listed_accounts(request)
    return download(request, account_table(queryset=rows, with_activity=True))


@login_required
@require_GET
def visit_export(request: HttpRequest) -> HttpResponseBase:
    """The visit list's rows, every page of them; 404 when narrowed to an account the user may not see."""
    _form, _filters, _account, rows = listed_visits(request)
    return download(request, visit_table(queryset=rows))


@login_required
@require_GET
def contact_export(request: HttpRequest) -> HttpResponseBase:
    """The contacts (not archived) of the accounts the account list selects with the same query string, by account
    and name; `?account=` narrows them to one account the user sees (404 for any other)."""
    _form, _filters, accounts = listed_accounts(request)
    if request.GET.get("account"):
        account_id = parse_pk(request.GET["account"])
        if account_id is None or not Account.objects.visible_to(request.user).filter(pk=account_id).exists():
            raise Http404
        accounts = Account.objects.filter(pk=account_id)
    rows = Contact.objects.visible_to(request.user).active().filter(account__in=accounts.values("pk"))
    return download(request, contact_table(queryset=rows.order_by("account__name", "name", "pk")))
