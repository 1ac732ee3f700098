"""What the reports export (issue 14): the rows of the forecast, win/loss, what changed, territory, matrix, targets
and team pages as `core.exports.Table`s, built from the pages' own selectors so a file shows what its page shows,
every page of it. Headers are translated when the table is written, in the viewer's language.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.facts import CUSTOMER_TYPE_LABELS
from accounts.models import User
from analytics.models import Quadrant
from analytics.selectors.changes import change_rows, shown_change
from analytics.selectors.cvpv import matrix_rows
from analytics.selectors.forecast import ForecastRow
from analytics.selectors.pages import TeamOverview
from analytics.selectors.targets import TargetsPivot
from analytics.selectors.territory import TerritoryRow
from analytics.selectors.winloss import WinLossRow
from core.exports import CHUNK_ROWS, Column, Kind, Table, chunked, objects_table

QUADRANT_LABELS = dict(Quadrant.choices)


def forecast_table(*, rows: list[ForecastRow], **kwargs) -> Table:
    """One row per rep of the forecast, as the page shows them (every page); runs no query."""
    columns = [
        Column(_("Sales rep"), "owner_name"),
        Column(_("Target"), "target", Kind.MONEY),
        Column(_("Won"), "won", Kind.MONEY),
        Column(_("Commit"), "commit", Kind.MONEY),
        Column(_("Best case"), "best_case", Kind.MONEY),
        Column(pgettext_lazy("forecast category", "Pipeline"), "pipeline", Kind.MONEY),
        Column(_("Gap"), "gap", Kind.MONEY),
        Column(_("Manager's call"), "call", Kind.MONEY),
    ]
    return objects_table(name="forecast", filename="forecast", objects=rows, columns=columns, **kwargs)


def win_loss_table(*, dimensions: list[tuple[str, list[WinLossRow]]], **kwargs) -> Table:
    """Every dimension's rows one under the other, the dimension named in the first column; runs no query."""
    columns = [
        Column(_("Analysed by"), lambda pair: pair[0]),
        Column(_("Group"), lambda pair: pair[1].label),
        Column(_("Won"), lambda pair: pair[1].won, Kind.INT),
        Column(_("Lost"), lambda pair: pair[1].lost, Kind.INT),
        Column(_("Win rate"), lambda pair: pair[1].win_rate, Kind.PERCENT),
        Column(_("Won amount"), lambda pair: pair[1].won_amount, Kind.MONEY),
        Column(_("Lost amount"), lambda pair: pair[1].lost_amount, Kind.MONEY),
    ]
    pairs = [(str(label), row) for label, rows in dimensions for row in rows]
    return objects_table(name="winloss", filename="win-loss", objects=pairs, columns=columns, **kwargs)


def change_table(*, events: QuerySet, show_owner: bool, **kwargs) -> Table:
    """Every change of `change_events`, newest first, CHUNK_ROWS events at a time: one query for the events and two
    per chunk for their rows (`change_rows`)."""
    columns = [
        Column(_("When"), lambda change: change["row"].at, Kind.DATETIME),
        Column(_("Opportunity"), lambda change: change["row"].name),
        *([Column(_("Owner"), lambda change: change["row"].owner_name)] if show_owner else []),
        Column(_("Change"), lambda change: change["kind_label"]),
        Column(_("Before"), lambda change: change["old"]),
        Column(_("After"), lambda change: change["new"]),
    ]
    return objects_table(name="changes", filename="changes", objects=_changes(events), columns=columns, **kwargs)


def _changes(events: QuerySet) -> Iterator[dict]:
    for chunk in chunked(events.iterator(chunk_size=CHUNK_ROWS), CHUNK_ROWS):
        yield from (shown_change(row) for row in change_rows(list(chunk)))


def territory_table(*, rows: list[TerritoryRow], dimension_label: str, **kwargs) -> Table:
    """The rows of one territory view as its table shows them; runs no query."""
    columns = [
        Column(dimension_label, "label"),
        Column(_("Accounts"), "accounts", Kind.INT),
        Column(_("Target accounts"), "targets", Kind.INT),
        Column(_("Our units"), "our_units", Kind.INT),
        Column(_("Competitors' units"), "competitor_units", Kind.INT),
        Column(_("Our share"), "our_share", Kind.PERCENT),
        Column(_("CV"), "cv", Kind.MONEY),
        Column(_("PV"), "pv", Kind.MONEY),
        Column(_("Open pipeline"), "open_pipeline", Kind.MONEY),
        Column(_("Coverage"), "coverage", Kind.PERCENT),
    ]
    return objects_table(name="territory", filename="territory", objects=rows, columns=columns, **kwargs)


def matrix_table(*, accounts: QuerySet, viewer: User, **kwargs) -> Table:
    """Every account of the viewer in the matrix of a year, in the page's order, read in chunks (one query for the
    accounts and one for their owners' names)."""
    people = User.objects.visible_to(viewer).only("pk", "first_name", "last_name", "username")
    names = {person.pk: person.display_name for person in people}
    columns = [
        Column(_("Account"), "name"),
        Column(_("Owner"), lambda row: names.get(row.owner_id, "")),
        Column(_("Customer type"), lambda row: CUSTOMER_TYPE_LABELS.get(row.customer_type, row.customer_type)),
        Column(_("CV"), "cv", Kind.MONEY),
        Column(_("PV"), "pv", Kind.MONEY),
        Column(_("Share of wallet"), "share", Kind.PERCENT),
        Column(_("Quadrant"), "quadrant", labels=QUADRANT_LABELS),
        Column(_("Quadrant last year"), "previous_quadrant", labels=QUADRANT_LABELS),
        Column(_("Visit priority"), "priority", Kind.INT),
    ]
    rows = (
        row for chunk in chunked(accounts.iterator(chunk_size=CHUNK_ROWS), CHUNK_ROWS) for row in matrix_rows(chunk)
    )
    return objects_table(name="matrix", filename="matrix", objects=rows, columns=columns, **kwargs)


def targets_table(*, pivot: TargetsPivot, **kwargs) -> Table:
    """One row per owner of the pivot (every page), a target, won and attainment column per period and for the year;
    runs no query."""
    columns = [
        Column(_("Team or person"), "owner_name"),
        Column(_("Listed under"), "group"),
        Column(_("Kind"), lambda row: str(_("Team")) if row.owner_type == "team" else str(_("Person"))),
    ]
    for index, start in enumerate(pivot.periods):
        columns += _period_columns(start.isoformat(), lambda row, i=index: row.cells[i])
    columns += _period_columns(str(pivot.year), lambda row: row.year)
    columns.append(Column(_("Stability (CV of monthly attainment)"), _stability, Kind.NUMBER))
    return objects_table(
        name="targets", filename="targets", objects=list(pivot.page.object_list), columns=columns, **kwargs
    )


def _period_columns(period: str, cell) -> list[Column]:
    return [
        Column(_("%(period)s target") % {"period": period}, lambda row: cell(row).target, Kind.MONEY),
        Column(_("%(period)s won") % {"period": period}, lambda row: cell(row).won_amount, Kind.MONEY),
        Column(_("%(period)s attainment") % {"period": period}, lambda row: cell(row).attainment, Kind.PERCENT),
    ]


def _stability(row) -> float | None:
    return None if row.stability is None or row.stability.cv is None else round(row.stability.cv, 3)


def team_table(*, overview: TeamOverview, **kwargs) -> Table:
    """One row per member of the team page (every member): open pipeline, win rate, target coverage, last week's
    plan and visits, this month's and quarter's attainment; runs no query."""
    columns = [
        Column(_("Person"), lambda row: row.person.display_name),
        Column(_("Open opportunities"), "open_count", Kind.INT),
        Column(_("Open amount"), "open_amount", Kind.MONEY),
        Column(_("Win rate"), lambda row: row.win_rate.rate, Kind.PERCENT),
        Column(_("Target accounts covered"), lambda row: row.coverage and row.coverage.coverage, Kind.PERCENT),
        Column(_("Plan done last week"), lambda row: row.adherence and row.adherence.rate, Kind.PERCENT),
        Column(_("Visits done last week"), "visits_last_week", Kind.INT),
        Column(_("Month target"), lambda row: row.month and row.month.target, Kind.MONEY),
        Column(_("Month won"), lambda row: row.month and row.month.won_amount, Kind.MONEY),
        Column(_("Quarter target"), lambda row: row.quarter and row.quarter.target, Kind.MONEY),
        Column(_("Quarter won"), lambda row: row.quarter and row.quarter.won_amount, Kind.MONEY),
    ]
    return objects_table(name="team", filename="team", objects=overview.members, columns=columns, **kwargs)
