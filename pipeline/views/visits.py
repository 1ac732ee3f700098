"""Visit pages: log a visit, complete or cancel a planned one, plan visits, the week plan and the visit list.

Every record is loaded through `visible_to(request.user)`: what the user may not see answers 404, htmx endpoints
included. Writes go through pipeline/services/visits.py and planning.py; a refusal becomes a form error on the field
it names.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts.models import Account, User
from core import idempotency
from core.calendar import today, week_from, week_start_of, week_start_of_moment
from core.errors import SalesFlowError
from core.forms import add_service_error
from core.views import is_quick_add, quick_add_form, quick_added, safe_next
from pipeline.forms.visits import (
    QuickVisitPlanForm,
    VisitCompleteForm,
    VisitFilterForm,
    VisitLogForm,
    VisitPlanForm,
    WeekCommentForm,
)
from pipeline.models import Visit
from pipeline.selectors.accounts import account_search
from pipeline.selectors.planning import plan_adherence, plan_reps, visit_plan_week, week_comments
from pipeline.selectors.visits import todays_visits, visits_for_list
from pipeline.services.planning import comment_on_visit_week, may_comment_on_visit_week
from pipeline.services.visits import cancel_visit, complete_visit, log_visit, plan_visit

VISITS_PER_PAGE = 25


def _now_to_the_minute() -> datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


def _visible_account(request: HttpRequest, value: str | None) -> Account | None:
    """The visible account named by an id from the request; 404 for an account the user may not see."""
    if not value:
        return None
    if not str(value).isdigit():
        raise Http404
    return get_object_or_404(Account.objects.visible_to(request.user).select_related("region"), pk=value)


def _plan_url(*, rep: User, week_start: date) -> str:
    return f"{reverse('pipeline:visit_plan')}?rep={rep.pk}&week={week_start.isoformat()}"


# --- logging, completing and cancelling ---------------------------------------------------------------------


def _form_token(request: HttpRequest) -> str:
    """The visit form's one-time token: the one the form was sent with, or a new one for a new form."""
    sent = request.POST.get("form_token", "")
    return sent if idempotency.KEY_PATTERN.match(sent) else secrets.token_urlsafe(16)


def _log_visit_once(request: HttpRequest, values: dict, *, form_token: str) -> tuple[Visit, bool]:
    """Logs the visit once per form token: a form sent again (a double tap, a reload, a retry on a bad network)
    returns the visit the first one logged, with True. Raises IdempotencyKeyReused when the token was spent on a
    visit with other values."""

    def log() -> idempotency.Answer:
        visit = log_visit(
            logged_by=request.user,
            account=values["account"],
            done_at=values["done_at"],
            kind=values["kind"],
            summary=values["summary"],
            purpose=values["purpose"],
            next_step=values["next_step"],
            contact=values["contact"],
            opportunity=values["opportunity"],
            satisfaction=values["satisfaction"],
            next_visit_at=values["next_visit_at"],
            next_visit_purpose=values["next_visit_purpose"],
        )
        return idempotency.Answer(status=302, body={"visit": visit.pk})

    sent = {name: request.POST.getlist(name) for name in sorted(request.POST) if name != "csrfmiddlewaretoken"}
    answer = idempotency.run_once(
        user=request.user,
        key=f"visit-log:{form_token}",
        request_fingerprint=idempotency.fingerprint(method="POST", path=request.path, body=sent),
        produce=log,
    )
    visit = Visit.objects.select_related("account").get(pk=answer.body["visit"])
    return visit, answer.replayed


@login_required
@require_http_methods(["GET", "POST"])
def visit_log(request: HttpRequest) -> HttpResponse:
    """Logs a visit done now or earlier (up to SALESFLOW_VISIT_BACKDATE_DAYS back), optionally planning the next.

    The form carries a one-time token: sent again, it logs nothing more and shows the visit it logged.
    """
    data = request.POST if request.method == "POST" else request.GET
    account = _visible_account(request, data.get("account"))
    form_token = _form_token(request)
    if request.method == "POST":
        form = VisitLogForm(request.POST, user=request.user, account=account)
        if form.is_valid():
            values = form.cleaned_data
            try:
                visit, replayed = _log_visit_once(request, values, form_token=form_token)
            except idempotency.IdempotencyKeyReused:
                form.add_error(None, _("This form was already used to log a visit. Send it again to log another one."))
                form_token = secrets.token_urlsafe(16)
            except SalesFlowError as error:
                add_service_error(form, error)
            else:
                if replayed:
                    messages.info(request, _("This visit was already saved; it was not logged twice."))
                    return redirect(visit)
                if values["next_visit_at"]:
                    messages.success(request, _("Visit logged and the next one planned."))
                else:
                    messages.success(request, _("Visit logged."))
                return redirect(safe_next(request) or visit.account.get_absolute_url())
    else:
        form = VisitLogForm(
            user=request.user,
            account=account,
            initial={"done_at": _now_to_the_minute(), "kind": data.get("kind") or Visit.Kind.VISIT},
        )
    context = {
        "form": form,
        "account": account,
        "todays_visits": todays_visits(user=request.user),
        "backdate_days": settings.SALESFLOW_VISIT_BACKDATE_DAYS,
        "next": safe_next(request) or "",
        "form_token": form_token,
    }
    return render(request, "pipeline/visit_log.html", context)


def _visit_for(request: HttpRequest, pk: int, *, to_change: bool = False) -> Visit:
    """The visit, if the user sees it (404 otherwise); to complete or cancel it, if they may change it: another
    side's visit seen at one's account or about one's opportunity is read-only and answers 404 here."""
    visits = Visit.objects.editable_by(request.user) if to_change else Visit.objects.visible_to(request.user)
    return get_object_or_404(
        visits.select_related("account", "contact", "opportunity__stage", "owner").annotate_is_editable(request.user),
        pk=pk,
    )


def _plan_card_response(request: HttpRequest, visit: Visit) -> HttpResponse:
    """The visit's card in the week plan, plus the week's adherence swapped out of band."""
    week_start = week_start_of_moment(visit.planned_at or visit.done_at)
    context = {
        "visit": visit,
        "adherence": plan_adherence(rep=visit.owner, week_start=week_start),
        "oob": True,
    }
    card = render(request, "pipeline/visit_plan.html#visit_card", context).content
    adherence = render(request, "pipeline/visit_plan.html#adherence", context).content
    return reswap(retarget(HttpResponse(card + adherence), f"#visit-{visit.pk}"), "outerHTML")


@login_required
@require_GET
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "pipeline/visit_detail.html", {"visit": _visit_for(request, pk)})


@login_required
@require_http_methods(["GET", "POST"])
def visit_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Completes a planned visit with its outcome, optionally planning the next one in the same submit.

    From the week plan (htmx) the form opens inside the visit's card and answers with the updated card.
    """
    visit = _visit_for(request, pk, to_change=True)
    inline = bool(request.htmx) and bool(request.GET.get("inline") or request.POST.get("inline"))
    prefix = f"visit-{visit.pk}" if inline else None  # several cards may have their form open at once
    if request.method == "POST":
        form = VisitCompleteForm(request.POST, prefix=prefix)
        if form.is_valid():
            values = form.cleaned_data
            try:
                visit = complete_visit(
                    visit=visit,
                    completed_by=request.user,
                    summary=values["summary"],
                    next_step=values["next_step"],
                    satisfaction=values["satisfaction"],
                    done_at=values["done_at"],
                    next_visit_at=values["next_visit_at"],
                    next_visit_purpose=values["next_visit_purpose"],
                )
            except SalesFlowError as error:
                add_service_error(form, error)
            else:
                if inline:
                    return _plan_card_response(request, _visit_for(request, visit.pk))
                messages.success(request, _("Visit completed."))
                return redirect(safe_next(request) or visit.account.get_absolute_url())
    elif visit.status != Visit.Status.PLANNED and not inline:
        return redirect(visit)  # nothing left to complete: show what happened
    else:
        form = VisitCompleteForm(prefix=prefix)
    context = {"visit": visit, "form": form, "next": safe_next(request) or ""}
    if inline:
        return render(request, "pipeline/visit_complete.html#inline_form", context)
    return render(request, "pipeline/visit_complete.html", context)


@login_required
@require_POST
def visit_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancels a planned visit; from the week plan (htmx) answers with the updated card."""
    visit = _visit_for(request, pk, to_change=True)
    try:
        visit = cancel_visit(visit=visit, cancelled_by=request.user)
    except SalesFlowError as error:
        if request.htmx:
            return HttpResponse(str(error.message), status=error.status)
        messages.error(request, str(error.message))
        return redirect(safe_next(request) or visit.get_absolute_url())
    if request.htmx:
        return _plan_card_response(request, _visit_for(request, visit.pk))
    messages.success(request, _("Visit cancelled."))
    return redirect(safe_next(request) or visit.get_absolute_url())


# --- planning -------------------------------------------------------------------------------------------------


def _plan_owner_choices(user: User):
    """Whom the user may plan visits for; None for a rep, who plans for themself only."""
    if user.is_rep:
        return None
    return User.objects.filter(pk__in=[person.pk for person in plan_reps(viewer=user)]).order_by("username")


@login_required
@require_http_methods(["GET", "POST"])
def visit_plan_create(request: HttpRequest) -> HttpResponse:
    """Plans a visit (for the user, or for a rep of a manager's team / any rep for a director)."""
    data = request.POST if request.method == "POST" else request.GET
    account = _visible_account(request, data.get("account"))
    owners = _plan_owner_choices(request.user)
    dialog = is_quick_add(request)
    form_class = QuickVisitPlanForm if dialog else VisitPlanForm
    if request.method == "POST":
        form = form_class(request.POST, user=request.user, account=account, owners=owners)
        if form.is_valid():
            values = form.cleaned_data
            try:
                visit = plan_visit(
                    planned_by=request.user,
                    account=values["account"],
                    planned_at=values["planned_at"],
                    kind=values["kind"],
                    purpose=values["purpose"],
                    contact=values.get("contact"),
                    opportunity=values.get("opportunity"),
                    owner=values.get("owner") or request.user,
                )
            except SalesFlowError as error:
                add_service_error(form, error)
            else:
                if dialog:
                    message = _("Visit to %(account)s planned.") % {"account": visit.account.name}
                    return quick_added(message, kind="visit", pk=visit.pk, url=visit.get_absolute_url())
                messages.success(request, _("Visit planned."))
                week_start = week_start_of_moment(visit.planned_at)
                return redirect(safe_next(request) or _plan_url(rep=visit.owner, week_start=week_start))
    else:
        try:
            day = date.fromisoformat(data.get("date", ""))
        except ValueError:
            day = today() + timedelta(days=1)
        initial = {
            "planned_at": datetime.combine(day, time(9, 0)),
            "kind": Visit.Kind.VISIT,
            "owner": data.get("rep") if owners is not None else None,
        }
        form = form_class(user=request.user, account=account, owners=owners, initial=initial)
    if dialog:
        action = reverse("pipeline:visit_plan_create")
        return quick_add_form(request, form, title=_("Plan a visit"), action=action, submit_label=_("Plan visit"))
    context = {"form": form, "account": account, "next": safe_next(request) or ""}
    return render(request, "pipeline/visit_plan_form.html", context)


@login_required
@require_GET
def visit_plan(request: HttpRequest) -> HttpResponse:
    """A rep's week of visits (Mon–Sun), its plan adherence and the manager's comments."""
    reps = plan_reps(viewer=request.user)
    rep_id = request.GET.get("rep")
    if rep_id:
        rep = next((person for person in reps if str(person.pk) == rep_id), None)
        if rep is None:
            raise Http404
    else:
        rep = next((person for person in reps if person.pk == request.user.pk), reps[0] if reps else None)
        if rep is None:
            raise Http404
    week_start = week_from(request.GET.get("week"), today=today())
    context = {
        "rep": rep,
        "reps": reps,
        "week_start": week_start,
        "week_end": week_start + timedelta(days=6),
        "previous_week": week_start - timedelta(days=7),
        "next_week": week_start + timedelta(days=7),
        "this_week": week_start_of(today()),
        "days": visit_plan_week(rep=rep, week_start=week_start),
        "adherence": plan_adherence(rep=rep, week_start=week_start),
        "comments": week_comments(rep=rep, week_start=week_start),
        "can_comment": may_comment_on_visit_week(author=request.user, rep=rep),
        "comment_form": WeekCommentForm(),
        "can_act": True,
    }
    return render(request, "pipeline/visit_plan.html", context)


@login_required
@require_POST
def visit_week_comment(request: HttpRequest) -> HttpResponse:
    """Adds the manager's (or a director's) comment on a rep's week; a rep may not comment.

    htmx gets the comments section back; without JavaScript the answer is a redirect to the week plan either way.
    """
    rep_id = request.POST.get("rep", "")
    if not rep_id.isdigit():
        raise Http404
    rep = get_object_or_404(User.objects.visible_to(request.user), pk=rep_id)
    week_start = week_from(request.POST.get("week"), today=today())
    if not may_comment_on_visit_week(author=request.user, rep=rep):
        return HttpResponseForbidden(_("Only the rep's manager or a director may comment on a rep's week."))
    form = WeekCommentForm(request.POST)
    if form.is_valid():
        try:
            comment_on_visit_week(rep=rep, week_start=week_start, author=request.user, text=form.cleaned_data["text"])
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("Comment added."))
                return redirect(_plan_url(rep=rep, week_start=week_start))
            form = WeekCommentForm()
    if not request.htmx:  # POST-redirect-GET: the refusal as a message on the week plan
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(_plan_url(rep=rep, week_start=week_start))
    context = {
        "rep": rep,
        "week_start": week_start,
        "comments": week_comments(rep=rep, week_start=week_start),
        "can_comment": True,
        "comment_form": form,
    }
    return render(request, "pipeline/visit_plan.html#comments", context)


# --- htmx pieces of the visit forms -----------------------------------------------------------------------


@login_required
@require_GET
def visit_account_search(request: HttpRequest) -> HttpResponse:
    """Up to 10 visible accounts matching `q`, as choices for the visit forms' account picker (htmx)."""
    context = {
        "accounts": account_search(viewer=request.user, query=request.GET.get("q", "")),
        "query": request.GET.get("q", "").strip(),
        "picker_form": "plan" if request.GET.get("form") == "plan" else "log",
    }
    return render(request, "pipeline/visit_account_picker.html#results", context)


@login_required
@require_GET
def visit_account_picker(request: HttpRequest) -> HttpResponse:
    """The account picker of a visit form with that account chosen (contacts and opportunities of that account),
    or empty again (htmx); 404 for an account the user may not see."""
    account = _visible_account(request, request.GET.get("account"))
    picker_form = "plan" if request.GET.get("form") == "plan" else "log"
    form_class = VisitPlanForm if picker_form == "plan" else VisitLogForm
    kwargs = {"owners": None} if picker_form == "plan" else {}
    form = form_class(user=request.user, account=account, **kwargs)
    context = {"form": form, "account": account, "picker_form": picker_form}
    return render(request, "pipeline/visit_account_picker.html#picker", context)


# --- list -----------------------------------------------------------------------------------------------------


def listed_visits(request: HttpRequest) -> tuple[VisitFilterForm, dict, Account | None, QuerySet[Visit]]:
    """The list's filter form, its valid filters, the account it is narrowed to and the visible visits they select,
    in the list's order (the list and its export); 404 for an account the user may not see."""
    owners = User.objects.visible_to(request.user).filter(is_active=True).order_by("username")
    form = VisitFilterForm(request.GET or None, owners=owners)
    filters = form.cleaned_data if form.is_valid() else {}
    account = _visible_account(request, request.GET.get("account"))
    visits = visits_for_list(
        viewer=request.user,
        q=filters.get("q") or "",
        status=filters.get("status") or "",
        kind=filters.get("kind") or "",
        owner=filters.get("owner"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        account=account,
        sort=filters.get("sort") or "-when",
    )
    return form, filters, account, visits


@login_required
@require_GET
def visit_list(request: HttpRequest) -> HttpResponse:
    """The visible visits with search, filters, sorting and pagination."""
    form, filters, account, visits = listed_visits(request)
    page = Paginator(visits, VISITS_PER_PAGE).get_page(request.GET.get("page"))
    active_filters = sum(1 for name in ("status", "kind", "owner", "date_from", "date_to") if filters.get(name))
    context = {
        "form": form,
        "page_obj": page,
        "visits": page.object_list,
        "account": account,
        "active_filters": active_filters + len(form.errors),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "pipeline/visit_list.html#results", context)
    return render(request, "pipeline/visit_list.html", context)
