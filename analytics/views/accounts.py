"""The account page (accounts:detail): what pipeline shows of the account (profile, contacts, installed base,
opportunities, visits, changes) and, from analytics, its CV, PV, share of wallet and quadrant per year with the
transitions between years (SPEC §3, §7). It composes both apps, so it lives in the higher one (STYLE §1)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics.selectors.matrix import account_value_years
from pipeline.views.accounts import account_page_context


@login_required
@require_GET
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The account page; 404 for an account the user may not see (account_page_context loads it visible_to them)."""
    context = account_page_context(request, pk)
    context["value_years"] = account_value_years(viewer=request.user, account=context["account"])
    return render(request, "accounts/detail.html", context)
