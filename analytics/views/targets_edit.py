"""The targets grid (issue 13): `/targets/edit/`, the targets page's owners × periods as inputs, saved a page at a time.

Directors and managers only (a rep answers 404). One POST saves the whole page through one service,
`save_target_grid`, which writes every cell or none: a refused cell comes back beside its input in the grid,
answered 400, with what was typed kept; a saved page redirects to itself with a message (POST-redirect-GET).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import ngettext

from analytics.forms import TargetsQueryForm
from analytics.selectors.target_grid import TargetGrid, target_grid
from core.calendar import period_start, today
from core.errors import NotVisible, SalesFlowError
from pipeline.services.target_grid import TargetCell, TargetGridInvalid, save_target_grid
from pipeline.services.targets import may_set_targets

GRID_OWNERS_PER_PAGE = 25
CELL_NAME = re.compile(r"^cell-(user|team)-(\d{1,18})-(\d{4}-\d{2}-\d{2})$")


def posted_cells(data) -> list[TargetCell] | None:
    """The grid's cells in a POST (`cell-<owner type>-<owner id>-<period start>`, with `was-<same>` for what the
    page showed); None when a cell's name is malformed."""
    cells = []
    for name, value in data.items():
        if not name.startswith("cell-"):
            continue
        match = CELL_NAME.match(name)
        if match is None:
            return None
        kind, owner_id, start = match.groups()
        try:
            period = date.fromisoformat(start)
        except ValueError:
            return None
        cells.append(TargetCell(kind, int(owner_id), period, value, data.get(f"was-{name[5:]}")))
    return cells


def _with_posted(grid: TargetGrid, cells: list[TargetCell], errors: dict[str, str]) -> None:
    """The page's inputs as posted, each refused cell with its reason."""
    typed = {cell.key: cell.amount for cell in cells}
    grid.page.object_list = [
        replace(
            row,
            cells=[replace(c, value=typed.get(c.key, c.value), error=errors.get(c.key, "")) for c in row.cells],
        )
        for row in grid.page.object_list
    ]


@login_required
def targets_edit(request: HttpRequest) -> HttpResponse:
    """One page of GRID_OWNERS_PER_PAGE owners × the periods of a year as inputs, the viewer's own reps' (a
    director's: everyone's) editable and the others read-only, each with its attainment; the same queries whatever
    the number of targets. POST saves the page."""
    viewer = request.user
    if not may_set_targets(actor=viewer):
        raise Http404
    form = TargetsQueryForm(request.GET)
    day = today()
    context = {"form": form, "years": list(range(day.year + 1, day.year - 5, -1))}
    if not form.is_valid():
        return render(request, "analytics/targets_edit.html", {**context, "invalid": True}, status=400)
    period_type = form.cleaned_data["period_type"] or "month"
    year = form.cleaned_data["year"] or day.year
    status, errors, cells = 200, {}, []
    if request.method == "POST":
        cells = posted_cells(request.POST)
        if cells is None:
            return HttpResponseBadRequest()
        try:
            saved = save_target_grid(actor=viewer, period_type=period_type, year=year, cells=cells)
        except NotVisible as error:
            raise Http404 from error
        except TargetGridInvalid as error:
            status, errors = error.status, error.errors
            messages.error(request, error.message)
        except SalesFlowError as error:
            status = error.status
            messages.error(request, error.message)
        else:
            messages.success(
                request, ngettext("%(count)s target saved.", "%(count)s targets saved.", saved) % {"count": saved}
            )
            return redirect(request.get_full_path())
    grid = target_grid(
        viewer=viewer, period_type=period_type, year=year, page=request.GET.get("page"), per_page=GRID_OWNERS_PER_PAGE
    )
    if status != 200:
        _with_posted(grid, cells, errors)
    context |= {
        "period_type": period_type,
        "period_types": form.fields["period_type"].choices,
        "year": year,
        "grid": grid,
        "page_obj": grid.page,
        "current_start": period_start(period_type, day),
        "error_count": len(errors),
    }
    return render(request, "analytics/targets_edit.html", context, status=status)
