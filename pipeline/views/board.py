"""The pipeline board: columns are the stages of a pipeline; moving a card is a stage change with criteria check."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from core.errors import ExitCriteriaNotMet, SalesFlowError, StaleVersion
from core.templatetags.salesflow import cny
from core.views import with_toast
from pipeline.forms.opportunities import BoardFilterForm, MoveForm
from pipeline.models import Opportunity, Pipeline, Stage
from pipeline.selectors.opportunities import board_columns
from pipeline.services.moves import move_opportunity

if TYPE_CHECKING:
    from pipeline.criteria import UnmetCriterion
    from pipeline.selectors.opportunities import BoardCard, BoardColumn


@dataclass(frozen=True)
class CardError:
    """Why a card's move was refused, shown on the card."""

    opportunity_id: int
    opportunity_url: str
    stage_code: str
    stage_name: str
    message: str
    unmet: list[UnmetCriterion] = field(default_factory=list)
    can_override: bool = False
    is_stale: bool = False


def _filter_query(form: BoardFilterForm, pipeline: Pipeline | None) -> QueryDict:
    """The board's pipeline and valid filters, to carry through moves and into the opportunity list."""
    query = QueryDict(mutable=True)
    if pipeline is not None:
        query["pipeline"] = pipeline.pk
    for name in ("team", "owner", "amount_min", "amount_max", "close_from", "close_to"):
        value = form.cleaned_data.get(name)
        if value not in (None, ""):
            query[name] = value.pk if name in ("team", "owner") else value
    return query


def _move_menu(stages: list[Stage], *, current: Stage) -> str:
    """The options of a column's stage menu, its own stage selected: nine <option>s, written here rather than by a
    template (drawing them through one, column by column, cost more than the rest of the column)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}. {}</option>',
        ((stage.code, " selected" if stage.pk == current.pk else "", stage.order, stage.name) for stage in stages),
    )


# A card as board.html's `card` partial draws it when no move of it was refused (that one is drawn by the partial,
# with its reason and override): written here, as a card's two dozen template lookups cost more than the rest of the
# board. tests/pipeline/test_board_cards_html.py holds the two to the same HTML.
_CARD = (
    '\n<li class="board-card{stale_class}"\n    id="card-{pk}" data-card data-move-url="{move_action}"\n'
    '    data-version="{version}">\n'
    '  <p class="board-card__account">{account_name}</p>\n'
    '  <a class="board-card__name" href="{url}">{name}</a>\n'
    '  <p class="board-card__meta">\n'
    '    <span class="board-card__amount">{amount_label}</span>\n'
    '    <span class="board-card__days">{days_label}</span>\n'
    "    {stale_badge}\n"
    "  </p>\n"
    "  {owner}\n\n  \n\n"
    '  <details class="board-card__move">\n'
    "    <summary>{move_label}</summary>\n"
    '    <form method="post" action="{move_action}"\n'
    '          hx-post="{move_action}" hx-target="#board" hx-swap="outerHTML">\n'
    '      <input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">\n'
    '      <input type="hidden" name="version" value="{version}">\n'
    '      <label class="visually-hidden" for="move-{pk}">{move_to_stage_label}</label>\n'
    '      <select id="move-{pk}" name="stage">{move_menu}</select>\n'
    '      <button type="submit" class="btn btn--small">{move_label}</button>\n'
    "    </form>\n"
    "  </details>\n"
    "</li>\n"
)


def _card_labels() -> dict[str, str]:
    """The cards' words, translated once per board: for the cards drawn here and for the template's refused card."""
    return {
        "move_label": _("Move"),
        "move_to_stage_label": _("Move to stage"),
        "stale_label": _("Stale"),
        "stale_title": _("No stage change and no completed visit for a long time"),
    }


def _card_html(card: BoardCard, *, move_menu: str, show_owner: bool, labels: dict[str, str], csrf_token: str) -> str:
    badge = '<span class="badge badge--stale" title="{}">{}</span>'
    stale_badge = format_html(badge, labels["stale_title"], labels["stale_label"]) if card.is_stale else ""
    owner = format_html('<p class="board-card__owner muted small">{}</p>', card.owner_name) if show_owner else ""
    return format_html(
        _CARD,
        stale_class=" board-card--stale" if card.is_stale else "",
        pk=card.pk,
        move_action=card.move_action,
        version=card.version,
        account_name=card.account_name,
        url=card.url,
        name=card.name,
        amount_label=card.amount_label,
        days_label=card.days_label,
        stale_badge=stale_badge,
        owner=owner,
        move_label=labels["move_label"],
        csrf_token=csrf_token,
        move_to_stage_label=labels["move_to_stage_label"],
        move_menu=move_menu,
    )


# A column as board.html's `column` partial draws it when none of its cards was refused: its header and totals, its
# cards (`_CARD`), and its "no opportunities" or "n more" line.
_COLUMN = (
    '<section class="board-column stage-{order}" aria-labelledby="column-{pk}">\n'
    '  <header class="board-column__header">\n'
    '    <h2 id="column-{pk}" class="board-column__title">\n'
    '      <span class="stage-dot" aria-hidden="true"></span>{name}\n'
    "    </h2>\n"
    '    <p class="board-column__totals">\n'
    '      <span class="board-column__count" title="{opportunities_label}">{count}</span>\n'
    '      <span class="board-column__amount" title="{total_label}">{amount}</span>\n'
    "    </p>\n"
    '    <p class="board-column__weighted muted small">\n'
    '      {weighted_label} <span class="board-column__weighted-amount" title="{weighted_title}">{weighted}</span>\n'
    "    </p>\n"
    "    {add}\n"
    "  </header>\n"
    '  <ol class="board-column__cards" data-stage="{code}" data-stage-name="{name}">{cards}</ol>\n'
    "  {empty}{more}\n"
    "</section>\n"
)


def _column_labels() -> dict[str, str]:
    return {
        "opportunities_label": _("Opportunities"),
        "total_label": _("Total amount"),
        "weighted_label": _("Weighted"),
        "weighted_title": _("Amount × win probability"),
    }


def _column_html(column: BoardColumn, *, cards: str, add: str, list_url: str, labels: dict[str, str]) -> str:
    empty = (
        format_html('<p class="board-column__empty muted small">{}</p>', _("No opportunities"))
        if not column.cards
        else ""
    )
    more = ""
    if column.hidden_count > 0:
        more = format_html(
            '\n  <a class="board-column__more" href="{}&amp;stage={}">{}</a>',
            list_url,
            column.stage.pk,
            ngettext("%(counter)s more…", "%(counter)s more…", column.hidden_count) % {"counter": column.hidden_count},
        )
    return format_html(
        _COLUMN,
        order=column.stage.order,
        pk=column.stage.pk,
        name=column.stage.name,
        code=column.stage.code,
        count=column.count,
        amount=cny(column.amount),
        weighted=cny(column.weighted),
        add=add,
        cards=mark_safe(cards),
        empty=empty,
        more=more,
        **labels,
    )


def _add_link(pipeline: Pipeline) -> str:
    """The first column's "+ Add opportunity", opening the quick-add dialog for the board's pipeline."""
    create = reverse("pipeline:opportunity_create")
    return format_html(
        '<a class="board-column__add" href="{}?pipeline={}"\n'
        '       data-quick-add hx-get="{}?dialog=1&amp;pipeline={}"\n'
        '       hx-target="#quick-add-body" hx-swap="innerHTML">+ {}</a>',
        create,
        pipeline.pk,
        create,
        pipeline.pk,
        _("Add opportunity"),
    )


def _drawn(
    columns: list[BoardColumn],
    *,
    move_query: str,
    request: HttpRequest,
    refused_id: int | None,
    list_url: str,
    add_to: Pipeline | None,
) -> list[BoardColumn]:
    """The columns as the board draws them, so that the template only prints them: every card of a column offers the
    same stage menu with its own stage selected, so the menu is drawn once per column instead of once per card; each
    card's move URL carries the board's filters; each card but a refused one is drawn here (`_CARD`), and so is each
    column that does not hold the refused card (`_COLUMN`); the template's partials draw the refused card and its
    column."""
    stages = [column.stage for column in columns]
    drawing = {"show_owner": not request.user.is_rep, "labels": _card_labels(), "csrf_token": get_token(request)}
    column_labels = _column_labels()
    drawn = []
    for index, column in enumerate(columns):
        move_menu = _move_menu(stages, current=column.stage)
        cards = []
        for card in column.cards:
            card = replace(card, move_action=f"{card.move_url}?{move_query}")
            if card.pk != refused_id:
                card = replace(card, html=_card_html(card, move_menu=move_menu, **drawing))
            cards.append(card)
        column = replace(column, move_menu=move_menu, cards=cards)
        if all(card.html for card in cards):
            add = _add_link(add_to) if index == 0 and add_to is not None else ""
            html = _column_html(
                column, cards="".join(card.html for card in cards), add=add, list_url=list_url, labels=column_labels
            )
            column = replace(column, html=html)
        drawn.append(column)
    return drawn


def _board_context(
    request: HttpRequest, *, pipeline: Pipeline | None = None, card_error: CardError | None = None
) -> dict:
    """Everything the board template shows, for the filters in the query string; a constant number of queries."""
    form = BoardFilterForm(request.GET, viewer=request.user)
    form.is_valid()
    filters = form.filters()
    pipeline = pipeline or form.chosen_pipeline()
    query = _filter_query(form, pipeline)
    move_query = query.urlencode()
    list_query = query.copy()
    list_query.update({"status": Opportunity.Status.OPEN, "sort": "-amount"})
    list_url = f"{reverse('pipeline:opportunity_list')}?{list_query.urlencode()}"
    # New opportunities start in the first column; only a director picks the pipeline, others add to the default.
    add_here = pipeline is not None and (pipeline.is_default or request.user.is_director)
    columns: list[BoardColumn] = []
    if pipeline is not None:
        columns = _drawn(
            board_columns(viewer=request.user, pipeline=pipeline, filters=filters),
            move_query=move_query,
            request=request,
            refused_id=card_error.opportunity_id if card_error is not None else None,
            list_url=list_url,
            add_to=pipeline if add_here else None,
        )
    shown_ids = {card.pk for column in columns for card in column.cards}
    return {
        "form": form,
        "pipeline": pipeline,
        "columns": columns,
        "move_query": move_query,
        "list_url": list_url,
        "card_error": card_error,
        "refused_id": card_error.opportunity_id if card_error is not None else None,
        "card_error_unplaced": card_error is not None and card_error.opportunity_id not in shown_ids,
        "show_owner": not request.user.is_rep,
        "can_override": request.user.can_override_exit_criteria,
        **_card_labels(),
        "add_here": add_here,
    }


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The board of one pipeline with the filters in the query string; htmx asks for the board region only."""
    context = _board_context(request)
    if request.htmx and not request.htmx.boosted:
        return render(request, "pipeline/board.html#board", context)
    return render(request, "pipeline/board.html", context)


def _refusal_message(card_error: CardError) -> str:
    """The refusal as a message for the next page (no JavaScript): the reason and the unmet criteria as links."""
    return mark_safe(render_to_string("pipeline/board.html#refusal", {"card_error": card_error}))


@login_required
@require_POST
def board_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Moves a card to another stage via move_opportunity.

    htmx gets the board region back: after a move with a toast (HX-Trigger), after a refusal with the reason shown
    once, on the card, its unmet criteria linking to the opportunity's checklist. Without JavaScript the answer is
    always a redirect to the board (POST-redirect-GET), the outcome in a message. The board's filters travel in the
    query string.
    """
    opportunity = get_object_or_404(
        Opportunity.objects.visible_to(request.user).select_related("stage", "pipeline"), pk=pk
    )
    stages = list(opportunity.pipeline.stages.order_by("order"))
    form = MoveForm(request.POST, opportunity=opportunity, stages=stages, user=request.user)
    stage_names = {s.code: s.name for s in stages}
    card_error = None
    notice = ""
    from_code = opportunity.stage.code  # the service updates `opportunity` in place
    if form.is_valid():
        to_code = form.cleaned_data["stage"]
        try:
            move_opportunity(
                opportunity=opportunity,
                to_stage_code=to_code,
                moved_by=request.user,
                override_reason=form.cleaned_data.get("override_reason", "").strip(),
                expected_version=form.cleaned_data["version"],
            )
        except SalesFlowError as error:
            card_error = CardError(
                opportunity_id=opportunity.pk,
                opportunity_url=opportunity.get_absolute_url(),
                stage_code=to_code,
                stage_name=stage_names[to_code],
                message=str(error.message),
                unmet=error.unmet if isinstance(error, ExitCriteriaNotMet) else [],
                can_override=isinstance(error, ExitCriteriaNotMet) and request.user.can_override_exit_criteria,
                is_stale=isinstance(error, StaleVersion),
            )
        else:
            if to_code != from_code:
                notice = _("“%(name)s” moved to %(stage)s.") % {"name": opportunity.name, "stage": stage_names[to_code]}
    else:
        to_code = request.POST.get("stage", "")
        card_error = CardError(
            opportunity_id=opportunity.pk,
            opportunity_url=opportunity.get_absolute_url(),
            stage_code=to_code,
            stage_name=stage_names.get(to_code, to_code),
            message=" ".join(str(e) for errors in form.errors.values() for e in errors),
        )
    if not request.htmx:
        if card_error is not None:
            messages.error(request, _refusal_message(card_error))
        elif notice:
            messages.success(request, notice)
        return redirect(f"{reverse('pipeline:board')}?{request.GET.urlencode()}")
    context = _board_context(request, pipeline=opportunity.pipeline, card_error=card_error)
    response = render(request, "pipeline/board.html#board", context)
    return with_toast(response, notice) if notice else response
