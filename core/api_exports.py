"""The list endpoints' exports (issue 14): `?format=csv|xlsx` (and `&encoding=gbk`) or an `Accept` header naming CSV
or XLSX answers the whole filtered list as a file, the same one the list page's export gives.

A viewset says which table its rows make (`export_table`, see ExportListMixin, which every SalesFlowViewSet has);
its list then streams the export of `filter_queryset(get_queryset())` (the visible rows, the API's filters, search
and ordering, no paging) instead of a page of JSON. Errors stay JSON whatever was asked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import HttpResponseBase
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, ExportFormat, Table, export_response, filters_of


class ExportRenderer(BaseRenderer):
    """Selects an export by content negotiation; the export itself is written by `ExportListMixin.list`."""

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        return json.dumps(data, ensure_ascii=False).encode()  # only an error answer reaches here


class CSVRenderer(ExportRenderer):
    media_type = CSV_MEDIA_TYPE
    format = "csv"


class XLSXRenderer(ExportRenderer):
    media_type = XLSX_MEDIA_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"


class ExportListMixin:
    """Answers the list as an export when the viewset names its `export_table` and the request negotiated CSV or
    XLSX; every SalesFlowViewSet has it."""

    export_table: Callable[..., Table] | None = None  # a staticmethod: the table of a queryset of the viewset's rows
    export_renderer_classes: ClassVar[list] = [CSVRenderer, XLSXRenderer]

    @property
    def exports_list(self) -> bool:
        return self.export_table is not None

    def get_renderers(self) -> list:
        renderers = super().get_renderers()
        if self.export_table is not None:
            renderers += [renderer() for renderer in self.export_renderer_classes]
        return renderers

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # negotiates the renderer
        if getattr(self, "action", None) == "list" and isinstance(request.accepted_renderer, ExportRenderer):
            self.get = self.export_list  # the handler dispatch calls next

    def export_list(self, request, *args, **kwargs) -> HttpResponseBase:
        """The export of the filtered list (visible rows, the API's filters, search and ordering; no paging)."""
        renderer = request.accepted_renderer
        queryset: QuerySet = self.filter_queryset(self.get_queryset())
        table = self.export_table(queryset=queryset, filters=filters_of(request.query_params))
        gbk = renderer.format == "csv" and request.query_params.get("encoding", "").lower() == "gbk"
        export_format = ExportFormat(format=renderer.format, encoding="gbk" if gbk else "utf-8")
        return export_response(table=table, user=request.user, export_format=export_format)

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and isinstance(getattr(request, "accepted_renderer", None), ExportRenderer):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)
