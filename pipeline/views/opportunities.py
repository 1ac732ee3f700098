"""Opportunity pages: the list, the create form and the opportunity page with its actions.

Every action loads the opportunity through `visible_to` (invisible → 404), calls one service and either redirects
back to the page (success) or renders the page again with the service's refusal on the form it came from.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ExitCriteriaNotMet, SalesFlowError
from core.forms import add_service_error
from core.views import is_quick_add, quick_add_form, quick_added
from pipeline.criteria import evaluate_stage_criteria, win_blockers
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


def listed_opportunities(request: HttpRequest) -> tuple[OpportunityListFilterForm, QuerySet[Opportunity]]:
    """The list's filter form and the visible opportunities it selects, in its order (the list and its export)."""
    form = OpportunityListFilterForm(request.GET, viewer=request.user)
    form.is_valid()
    return form, filtered_opportunities(viewer=request.user, filters=form.filters()).order_by(*form.ordering())


@login_required
@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """Visible opportunities, searched, filtered, sorted and paginated; a constant number of queries."""
    form, rows = listed_opportunities(request)
    page = Paginator(rows.select_related("account", "owner", "stage", "pipeline"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"form": form, "page_obj": page, "opportunities": page.object_list}
    if request.htmx and not request.htmx.boosted:
        return render(request, "pipeline/opportunity_list.html#results", context)
    return render(request, "pipeline/opportunity_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_create(request: HttpRequest) -> HttpResponse:
    """Creates an opportunity at one of the user's visible accounts through create_opportunity.

    With `?dialog=1` from htmx (the quick-add dialog) the form comes alone, errors come back into it, and a success
    answers with nothing to swap but a toast and an `sf-added` event (the board then redraws its columns).
    """
    dialog = is_quick_add(request)
    initial = {"account": request.GET.get("account"), "pipeline": request.GET.get("pipeline")}  # ignored unless valid
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
            message = _("Opportunity “%(name)s” created.") % {"name": opportunity.name}
            if dialog:
                return quick_added(message, kind="opportunity", pk=opportunity.pk, url=opportunity.get_absolute_url())
            messages.success(request, message)
            return redirect(opportunity)
    if dialog:
        return quick_add_form(
            request,
            form,
            title=_("New opportunity"),
            action=reverse("pipeline:opportunity_create"),
            submit_label=_("Create opportunity"),
        )
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
        "win_unmet": _win_unmet(opportunity, stages),
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
        "ask_untouched_cause": False,
        "open_panel": "",
        "checklist_error": "",
    }
    context.update(overrides)
    return context


def _win_unmet(opportunity: Opportunity, stages: list | None = None) -> list:
    """What stands in the way of winning the opportunity (nothing once it is closed); "Mark as won" waits for it."""
    if not opportunity.is_open:
        return []
    return win_blockers(opportunity=opportunity, stages=stages or list(opportunity.pipeline.stages.order_by("order")))


def _move_targets(opportunity: Opportunity, stages: list) -> list:
    """The stages the move menu offers: the before-sale stages (its own included, so no stage is picked by accident)."""
    return [s for s in stages if not s.is_after_sales]


# What a refused form's redirect carries back in the query string, so the reopened panel shows what was typed.
_KEPT_VALUES = {
    "move": ("stage", "override_reason"),
    "lose": ("reason", "lost_to", "note", "untouched_cause"),
    "probability": ("probability",),
    "edit": ("name", "amount", "expected_close_date", "source", "competitors", "change_reason"),
}


def _refused(
    request: HttpRequest, opportunity: Opportunity, form, *, panel: str, unmet=(), ask_cause: bool = False
) -> HttpResponse:
    """POST-redirect-GET for a refused action: the reasons (the unmet criteria as links to the checklist) become a
    message, and the page opens again on a GET URL with the form's panel open and what was typed in it."""
    errors = [
        str(error) if name == "__all__" or form.fields[name].widget.is_hidden else f"{form.fields[name].label}: {error}"
        for name, field_errors in form.errors.items()
        for error in field_errors
    ]
    context = {"errors": errors, "unmet": unmet, "opportunity_url": opportunity.get_absolute_url()}
    messages.error(request, mark_safe(render_to_string("pipeline/refusal_message.html", context)))
    query = QueryDict(mutable=True)
    query["panel"] = panel
    if ask_cause:
        query["cause"] = "1"
    for name in _KEPT_VALUES.get(panel, ()):
        if values := [v for v in form.data.getlist(name) if v]:
            query.setlist(name, values)
    return redirect(f"{opportunity.get_absolute_url()}?{query.urlencode()}#actions")


def _typed_back(request: HttpRequest, panel: str) -> dict:
    """What a refused form sent, carried back by `_refused` in the query string, as the reopened form's initial."""
    if request.GET.get("panel") != panel:
        return {}
    return {
        name: request.GET.getlist(name) if name == "competitors" else request.GET.get(name)
        for name in _KEPT_VALUES[panel]
        if name in request.GET
    }


def _back_to_page(request: HttpRequest, opportunity: Opportunity, message: str, anchor: str = "") -> HttpResponse:
    messages.success(request, message)
    return redirect(f"{opportunity.get_absolute_url()}{anchor}")


@login_required
@require_GET
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The opportunity page: stage path and guidance, exit-criteria checklist, actions, history, visits.

    After a refused action (`?panel=...`, see `_refused`) that action's panel is open again with what was typed.
    """
    opportunity = _visible_opportunity(request, pk)
    context = _page_context(request, opportunity)
    panel = request.GET.get("panel", "")
    if panel in ("move", "lose", "probability", "edit", "win", "reopen"):
        context["open_panel"] = panel
        context["ask_untouched_cause"] = panel == "lose" and request.GET.get("cause") == "1"
    for name in _KEPT_VALUES:
        context[f"{name}_form"].initial.update(_typed_back(request, name))
    return render(request, "pipeline/opportunity.html", context)


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
            return _refused(request, opportunity, form, panel="move", unmet=unmet)
        return _back_to_page(request, moved, _("Moved to %(stage)s.") % {"stage": moved.stage.name})
    return _refused(request, opportunity, form, panel="move")


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
            "win_unmet": _win_unmet(opportunity),
            "win_form": VersionForm(initial={"version": opportunity.version}),
            "checklist_error": error_message,
            "checklist_error_code": code if error_message else "",
        }
        # The checklist, and the win panel out of band: ticking the last criterion enables "Mark as won".
        response = HttpResponse(
            render_to_string("pipeline/opportunity.html#checklist", context, request)
            + render_to_string("pipeline/opportunity.html#win", {**context, "oob": True}, request)
        )
        # Other forms on the page carry the version too; board.js updates them when it changes.
        response["HX-Trigger"] = json.dumps({"opportunity-version": {"value": opportunity.version}})
        return response
    if error_message:
        messages.error(request, error_message)
        return redirect(f"{opportunity.get_absolute_url()}#criterion-{code}")
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
            return _refused(request, opportunity, form, panel="win", unmet=unmet)
        return _back_to_page(request, won, _("Won. Congratulations!"))
    return _refused(request, opportunity, form, panel="win")


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
            return _refused(request, opportunity, form, panel="lose", ask_cause=ask_cause)
        return _back_to_page(request, lost, _("Marked as lost."))
    return _refused(request, opportunity, form, panel="lose", ask_cause=ask_cause)


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
            return _refused(request, opportunity, form, panel="reopen")
        return _back_to_page(request, reopened, _("Reopened."))
    return _refused(request, opportunity, form, panel="reopen")


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
    return _refused(request, opportunity, form, panel="probability")


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
    return _refused(request, opportunity, form, panel="edit")
