"""Opportunity pages: the list, the create form and the opportunity page with its actions.

Every action loads the opportunity through `visible_to` (invisible → 404), calls one service and either redirects
back to the page (success) or renders the page again with the service's refusal on the form it came from.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ExitCriteriaNotMet, SalesFlowError
from core.forms import add_service_error
from pipeline.criteria import evaluate_stage_criteria
from pipeline.forms.opportunities import (
    CriterionValueForm,
    LoseForm,
    MoveForm,
    OpportunityCreateForm,
    OpportunityEditForm,
    OpportunityListFilterForm,
    ProbabilityForm,
    VersionForm,
)
from pipeline.models import Opportunity, StageCriterion
from pipeline.selectors.opportunities import days_between, filtered_opportunities, opportunity_history, stage_path
from pipeline.services.moves import lose_opportunity, move_opportunity, reopen_opportunity, win_opportunity
from pipeline.services.opportunities import create_opportunity, set_criterion_value, update_opportunity

PAGE_SIZE = 25


def _visible_opportunity(request: HttpRequest, pk: int) -> Opportunity:
    """The opportunity if the user may see it, else 404; one query."""
    rows = Opportunity.objects.visible_to(request.user).select_related(
        "account", "owner", "stage", "pipeline", "furthest_stage", "lost_to"
    )
    return get_object_or_404(rows, pk=pk)


# --- list and create ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """Visible opportunities, searched, filtered, sorted and paginated; a constant number of queries."""
    form = OpportunityListFilterForm(request.GET, viewer=request.user)
    form.is_valid()
    rows = (
        filtered_opportunities(viewer=request.user, filters=form.filters())
        .select_related("account", "owner", "stage", "pipeline")
        .order_by(*form.ordering())
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page_obj": page, "opportunities": page.object_list}
    if request.htmx and not request.htmx.boosted:
        return render(request, "pipeline/opportunity_list.html#results", context)
    return render(request, "pipeline/opportunity_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_create(request: HttpRequest) -> HttpResponse:
    """Creates an opportunity at one of the user's visible accounts through create_opportunity."""
    initial = {"account": request.GET.get("account")}  # from an account page; ignored unless visible
    form = OpportunityCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            opportunity = create_opportunity(
                created_by=request.user,
                account=data["account"],
                name=data["name"],
                amount=data["amount"] or 0,
                pipeline=data.get("pipeline"),
                expected_close_date=data["expected_close_date"],
                source=data["source"],
            )
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Opportunity “%(name)s” created.") % {"name": opportunity.name})
            return redirect(opportunity)
    return render(request, "pipeline/opportunity_form.html", {"form": form})


# --- the opportunity page -------------------------------------------------------------------------------------------


def _page_context(request: HttpRequest, opportunity: Opportunity, **overrides) -> dict:
    """Everything the opportunity page shows; a constant number of queries however long its history is."""
    user = request.user
    stages = list(opportunity.pipeline.stages.order_by("order"))
    competitors = list(opportunity.competitors.all())
    context = {
        "opportunity": opportunity,
        "path": stage_path(opportunity=opportunity, stages=stages),
        "checklist": evaluate_stage_criteria(opportunity=opportunity, stage=opportunity.stage),
        "history": opportunity_history(opportunity=opportunity, changes_page=request.GET.get("changes")),
        "competitors": competitors,
        "days_in_stage": days_between(opportunity.stage_entered_at, timezone.now()),
        "can_override": user.can_override_exit_criteria,
        "can_reopen": user.can_override_exit_criteria and not opportunity.is_open,
        "move_form": MoveForm(opportunity=opportunity, stages=_move_targets(opportunity, stages), user=user),
        "win_form": VersionForm(initial={"version": opportunity.version}),
        "lose_form": LoseForm(opportunity=opportunity),
        "reopen_form": VersionForm(initial={"version": opportunity.version}),
        "probability_form": ProbabilityForm(opportunity=opportunity),
        "edit_form": OpportunityEditForm(opportunity=opportunity, competitor_ids=[c.pk for c in competitors]),
        "unmet": [],
        "ask_untouched_cause": False,
        "open_panel": "",
        "checklist_error": "",
    }
    context.update(overrides)
    return context


def _move_targets(opportunity: Opportunity, stages: list) -> list:
    """The stages the move menu offers: the before-sale stages (its own included, so no stage is picked by accident)."""
    return [s for s in stages if not s.is_after_sales]


def _render_page(request: HttpRequest, opportunity: Opportunity, **overrides) -> HttpResponse:
    return render(request, "pipeline/opportunity.html", _page_context(request, opportunity, **overrides))


def _back_to_page(request: HttpRequest, opportunity: Opportunity, message: str, anchor: str = "") -> HttpResponse:
    messages.success(request, message)
    return redirect(f"{opportunity.get_absolute_url()}{anchor}")


@login_required
@require_GET
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The opportunity page: stage path and guidance, exit-criteria checklist, actions, history, visits."""
    return _render_page(request, _visible_opportunity(request, pk))


@login_required
@require_POST
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Moves the opportunity via move_opportunity; a refusal lists the unmet criteria above the move form."""
    opportunity = _visible_opportunity(request, pk)
    stages = list(opportunity.pipeline.stages.order_by("order"))
    form = MoveForm(request.POST, opportunity=opportunity, stages=stages, user=request.user)
    if form.is_valid():
        try:
            moved = move_opportunity(
                opportunity=opportunity,
                to_stage_code=form.cleaned_data["stage"],
                moved_by=request.user,
                override_reason=form.cleaned_data.get("override_reason", "").strip(),
                expected_version=form.cleaned_data["version"],
            )
        except SalesFlowError as error:
            add_service_error(form, error)
            unmet = error.unmet if isinstance(error, ExitCriteriaNotMet) else []
            return _render_page(request, opportunity, move_form=form, unmet=unmet, open_panel="move")
        return _back_to_page(request, moved, _("Moved to %(stage)s.") % {"stage": moved.stage.name})
    return _render_page(request, opportunity, move_form=form, open_panel="move")


@login_required
@require_POST
def opportunity_criterion(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """Sets one manual exit criterion of the current stage via set_criterion_value; htmx gets the checklist back."""
    opportunity = _visible_opportunity(request, pk)
    criterion = (
        StageCriterion.objects.filter(stage__pipeline=opportunity.pipeline_id, kind=StageCriterion.Kind.MANUAL)
        .filter(code=code)
        .order_by("stage__order")
        .first()
    )
    if criterion is None:
        raise Http404
    form = CriterionValueForm(request.POST, input_type=criterion.input_type)
    error_message = ""
    if form.is_valid():
        value = form.cleaned_data["value"]
        if criterion.input_type == StageCriterion.InputType.DATE:
            value = value.isoformat() if value else ""
        try:
            opportunity = set_criterion_value(
                opportunity=opportunity,
                code=code,
                value=value,
                changed_by=request.user,
                expected_version=form.cleaned_data["version"],
            )
        except SalesFlowError as error:
            error_message = str(error.message)
    else:
        error_message = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if request.htmx:
        context = {
            "opportunity": opportunity,
            "checklist": evaluate_stage_criteria(opportunity=opportunity, stage=opportunity.stage),
            "checklist_error": error_message,
            "checklist_error_code": code if error_message else "",
        }
        response = render(request, "pipeline/opportunity.html#checklist", context)
        # Other forms on the page carry the version too; board.js updates them when it changes.
        response["HX-Trigger"] = json.dumps({"opportunity-version": {"value": opportunity.version}})
        return response
    if error_message:
        return _render_page(request, opportunity, checklist_error=error_message, checklist_error_code=code)
    return _back_to_page(request, opportunity, _("Saved."), "#checklist")


@login_required
@require_POST
def opportunity_win(request: HttpRequest, pk: int) -> HttpResponse:
    """Wins the opportunity via win_opportunity."""
    opportunity = _visible_opportunity(request, pk)
    form = VersionForm(request.POST)
    if form.is_valid():
        try:
            won = win_opportunity(
                opportunity=opportunity, won_by=request.user, expected_version=form.cleaned_data["version"]
            )
        except SalesFlowError as error:
            add_service_error(form, error)
            unmet = error.unmet if isinstance(error, ExitCriteriaNotMet) else []
            return _render_page(request, opportunity, win_form=form, unmet=unmet, open_panel="win")
        return _back_to_page(request, won, _("Won. Congratulations!"))
    return _render_page(request, opportunity, win_form=form, open_panel="win")


@login_required
@require_POST
def opportunity_lose(request: HttpRequest, pk: int) -> HttpResponse:
    """Loses the opportunity via lose_opportunity; asks for the untouched-loss cause when the service needs it."""
    opportunity = _visible_opportunity(request, pk)
    form = LoseForm(request.POST, opportunity=opportunity)
    ask_cause = bool(request.POST.get("untouched_cause"))
    if form.is_valid():
        data = form.cleaned_data
        try:
            lost = lose_opportunity(
                opportunity=opportunity,
                lost_by=request.user,
                reason=data["reason"],
                lost_to=data["lost_to"],
                note=data["note"],
                untouched_cause=data["untouched_cause"],
                expected_version=data["version"],
            )
        except SalesFlowError as error:
            add_service_error(form, error)
            ask_cause = ask_cause or error.field == "untouched_cause"
            return _render_page(request, opportunity, lose_form=form, ask_untouched_cause=ask_cause, open_panel="lose")
        return _back_to_page(request, lost, _("Marked as lost."))
    return _render_page(request, opportunity, lose_form=form, ask_untouched_cause=ask_cause, open_panel="lose")


@login_required
@require_POST
def opportunity_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Reopens a won or lost opportunity via reopen_opportunity (managers and directors)."""
    opportunity = _visible_opportunity(request, pk)
    form = VersionForm(request.POST)
    if form.is_valid():
        try:
            reopened = reopen_opportunity(
                opportunity=opportunity, reopened_by=request.user, expected_version=form.cleaned_data["version"]
            )
        except SalesFlowError as error:
            add_service_error(form, error)
            return _render_page(request, opportunity, reopen_form=form, open_panel="reopen")
        return _back_to_page(request, reopened, _("Reopened."))
    return _render_page(request, opportunity, reopen_form=form, open_panel="reopen")


@login_required
@require_POST
def opportunity_probability(request: HttpRequest, pk: int) -> HttpResponse:
    """Overrides the win probability via update_opportunity."""
    opportunity = _visible_opportunity(request, pk)
    form = ProbabilityForm(request.POST, opportunity=opportunity)
    if form.is_valid():
        try:
            updated = update_opportunity(
                opportunity=opportunity,
                changed_by=request.user,
                expected_version=form.cleaned_data["version"],
                probability=form.cleaned_data["probability"],
            )
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            return _back_to_page(request, updated, _("Probability saved."))
    return _render_page(request, opportunity, probability_form=form, open_panel="probability")


@login_required
@require_POST
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Saves name, amount, expected close date, source, forecast category and competitors via update_opportunity."""
    opportunity = _visible_opportunity(request, pk)
    form = OpportunityEditForm(request.POST, opportunity=opportunity, competitor_ids=[])
    if form.is_valid():
        data = form.cleaned_data
        try:
            updated = update_opportunity(
                opportunity=opportunity,
                changed_by=request.user,
                expected_version=data["version"],
                name=data["name"],
                amount=data["amount"],
                expected_close_date=data["expected_close_date"],
                source=data["source"],
                competitors=list(data["competitors"]),
                change_reason=data.get("change_reason", ""),
                **({"forecast_category": data["forecast_category"]} if data.get("forecast_category") else {}),
            )
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            return _back_to_page(request, updated, _("Changes saved."))
    return _render_page(request, opportunity, edit_form=form, open_panel="edit")
