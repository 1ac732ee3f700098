"""OpenAPI schema pieces every endpoint shares: the Error body and the error responses each operation documents.

Imports nothing from our viewsets, because drf-spectacular loads DEFAULT_SCHEMA_CLASS while they are being defined.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Every error answers this shape. `detail` is the first message, `code` a stable machine code. Input errors "
        "(400) add one key per refused field holding its messages (`non_field_errors` for the request as a whole; "
        "a field itself named `code`, `detail` or `unmet` reports under `<name>_errors`). A move refused for unmet "
        "exit criteria (400, code `exit_criteria_not_met`) lists them in `unmet`."
    ),
    "properties": {
        "detail": {"type": "string", "description": "The first message, in the user's language."},
        "code": {"type": "string", "description": "A stable code such as invalid, not_found, stale_version."},
        "unmet": {
            "type": "array",
            "description": "The unmet exit criteria that refused a move, by stage order.",
            "items": {
                "type": "object",
                "properties": {
                    "stage": {"type": "string", "description": "Code of the stage the criterion belongs to."},
                    "code": {"type": "string"},
                    "label": {"type": "string"},
                    "reason": {"type": "string"},
                },
                "required": ["stage", "code", "label", "reason"],
            },
        },
    },
    "required": ["detail", "code"],
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

ERROR_RESPONSES: dict[str, tuple[str, dict[str, Any]]] = {
    "400": (
        "The input was refused; each refused field lists its messages.",
        {
            "detail": "Ensure this value is greater than or equal to 0.",
            "code": "min_value",
            "amount": ["Ensure this value is greater than or equal to 0."],
        },
    ),
    "401": (
        "No valid session or token (send `Authorization: Token <token>`).",
        {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"},
    ),
    "403": (
        "Your role may not make this change (or a session request lacks its CSRF token).",
        {"detail": "Only a sales director may change this.", "code": "permission_denied"},
    ),
    "404": (
        "No such record that you can see (records you may not see answer 404, never 403).",
        {"detail": "Not found.", "code": "not_found"},
    ),
    "409": (
        "`version` is not the record's current version: someone changed it since you read it (code `stale_version`); "
        "or the record's state refuses the change, such as archiving an account with open opportunities (code "
        "`conflict`); or a request with the same Idempotency-Key is still running (code `idempotency_key_in_use`). "
        "Nothing was written.",
        {
            "detail": "Someone else changed this record in the meantime. Reload it and try again.",
            "code": "stale_version",
            "version": ["Someone else changed this record in the meantime. Reload it and try again."],
        },
    ),
    "422": (
        "The Idempotency-Key was already used for a different request (another endpoint or another body) within "
        "24 hours; nothing was run. Send a new key for a new request.",
        {
            "detail": "This Idempotency-Key was already used for a different request.",
            "code": "idempotency_key_reused",
        },
    ),
    "415": (
        "The request body could not be read in its content type (send `application/json`).",
        {"detail": 'Unsupported media type "text/plain" in request.', "code": "unsupported_media_type"},
    ),
    "429": (
        "Too many requests; retry after the number of seconds in the Retry-After header.",
        {"detail": "Request was throttled. Expected available in 30 seconds.", "code": "throttled"},
    ),
}

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    type=str,
    required=False,
    pattern=r"^[\x21-\x7e]{1,255}$",
    description=(
        "Any unique string (a UUID) that makes this POST safe to retry: the same user sending the same key again "
        "within 24 hours gets the first answer (status and body, with `Idempotent-Replayed: true`) and nothing runs "
        "twice; the same key with a different request answers 422; a retry while the first is still running waits "
        "for it. Only successful answers are kept, so a refused request may be retried with the same key."
    ),
)

# The list endpoints that export (core/api_exports.py): the query parameters that ask for a file, and the file as
# their 200 answer's other content types (every other answer is JSON, whatever was asked for).
EXPORT_MEDIA_TYPES = frozenset({"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
EXPORT_CONTENT = {
    "text/csv": {"schema": {"type": "string", "description": "The whole filtered list as CSV."}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary", "description": "The whole filtered list as XLSX."}
    },
}
EXPORT_PARAMETERS = [
    OpenApiParameter(
        "format",
        str,
        enum=["json", "csv", "xlsx"],
        description=(
            "`csv` or `xlsx`: the whole filtered list (every page, in the `ordering`) as a file instead of a page of "
            "JSON; so does an `Accept` header of `text/csv` or the XLSX media type. Headers are in your language, "
            "money is a number (CNY), times are in your time zone, a text a spreadsheet would run as a formula is "
            "written as text, and the export is recorded."
        ),
    ),
    OpenApiParameter(
        "encoding",
        str,
        enum=["utf-8", "gbk"],
        description="CSV only: UTF-8 with a byte-order mark (the default), or GBK, where a character GBK lacks is `?`.",
    ),
]


class AutoSchema(SpectacularAutoSchema):
    """Adds the documented error responses (400/401/403/404/409/415/429 as they apply) to every operation.

    A view opts out of 401 with `authentication_classes = []`, and into 409 with `versioned = True` (its writes
    take an optimistic-lock `version`) or `archives_on_delete = True` (DELETE archives, refused in some states).
    POSTs of a view with `idempotent_posts = True` document the Idempotency-Key header and its 409 and 422. The list
    of a view with `exports_list = True` documents `?format=csv|xlsx` and `?encoding=`.
    """

    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if self._is_idempotent_post():
            parameters = [*parameters, IDEMPOTENCY_KEY]
        if self._is_exporting_list():
            parameters = [*parameters, *EXPORT_PARAMETERS]
        return parameters

    def _is_exporting_list(self) -> bool:
        return self.method == "GET" and "{" not in self.path and getattr(self.view, "exports_list", False)

    def map_renderers(self, attribute: str) -> list:
        exported = EXPORT_MEDIA_TYPES | {"csv", "xlsx"}
        return [value for value in super().map_renderers(attribute) if value not in exported]

    def _is_idempotent_post(self) -> bool:
        return self.method == "POST" and getattr(self.view, "idempotent_posts", False)

    def _get_response_bodies(self, direction="response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if self._is_exporting_list() and "content" in responses.get("200", {}):
            responses["200"]["content"] |= EXPORT_CONTENT
        for code in self.error_codes():
            if code not in responses:
                responses[code] = self.error_response(code)
        return responses

    def error_codes(self) -> list[str]:
        is_detail = "{" in self.path
        is_write = self.method in WRITE_METHODS
        codes = []
        if is_write or not is_detail:
            codes.append("400")  # writes refuse input; lists refuse malformed filters
        if self.view.authentication_classes:
            codes.append("401")
        if is_write and self.view.authentication_classes:
            codes.append("403")
        if self.view.authentication_classes:
            codes.append("404")  # a record (in the path, body or a filter) you cannot see, or a page past the end
        versioned = is_write and is_detail and getattr(self.view, "versioned", False)
        archives = self.method == "DELETE" and getattr(self.view, "archives_on_delete", False)
        if versioned or archives or self._is_idempotent_post():
            codes.append("409")
        if self._is_idempotent_post():
            codes.append("422")
        if self.method in BODY_METHODS:
            codes.append("415")
        codes.append("429")
        return codes

    def error_response(self, code: str) -> dict[str, Any]:
        description, example = ERROR_RESPONSES[code]
        return {
            "description": description,
            "content": {"application/json": {"schema": self.error_component().ref, "example": example}},
        }

    def error_component(self) -> ResolvedComponent:
        component = ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA)
        self.registry.register_on_missing(component)
        return component
