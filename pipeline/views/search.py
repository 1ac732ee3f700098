"""The search page, the header's as-you-type results and the pickers' options (htmx); all from
pipeline/selectors/search.py, so only what the user may see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pipeline.forms.search import PickForm, SearchForm
from pipeline.selectors.search import PICK_LIMIT, search


@require_GET
@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    """Results for `?q=`, best first: the page, or for the header's box (htmx) the dropdown of results."""
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    context = {"form": form, "query": query, "results": search(viewer=request.user, query=query)}
    if request.htmx and not request.htmx.boosted:
        return render(request, "search/search.html#dropdown", context)
    return render(request, "search/search.html", context)


@require_GET
@login_required
def search_pick(request: HttpRequest) -> HttpResponse:
    """The options of a picker (core/pickers.py): rows of one type matching what was typed in `<field>_search`."""
    data = request.GET.copy()
    data["q"] = request.GET.get(f"{request.GET.get('field', '')}_search", "")
    form = PickForm(data)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text())
    query = form.cleaned_data["q"]
    results = search(viewer=request.user, query=query, types=(form.cleaned_data["type"],), limit=PICK_LIMIT)
    context = {"results": results, "query": query, "field": form.cleaned_data["field"]}
    return render(request, "search/picker_options.html", context)
