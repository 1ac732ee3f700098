"""Plumbing every SalesFlow viewset and serializer shares: visibility-bound fields, refused fields, roles, pagination.

Viewsets answer with an output serializer (`serializer_class`, or `detail_serializer_class` for one record) and read
input with `create_serializer_class` / `update_serializer_class`; writes with a rule call a service in
`perform_create` / `perform_update`, which return the saved instance.

Every POST may carry an `Idempotency-Key` header (`IdempotentPostMixin`, core/idempotency.py): a retry gets the first
answer back and runs nothing. Records that are archived instead of deleted (`ArchiveOnDeleteMixin`) answer DELETE by
archiving, `POST {id}/restore/` by restoring, and leave the list unless `?archived=true`.
"""

from __future__ import annotations

import copy
import functools
import json
import zoneinfo
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import filters, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from core import idempotency
from core.api_exports import ExportListMixin
from core.statements import bound_queryset

# Primary keys are 64-bit; anything outside is refused as "not found" before it reaches the database driver.
MAX_PK = 2**63 - 1


class Pagination(PageNumberPagination):
    """`?page=` and `?page_size=` (at most 200); the default size is REST_FRAMEWORK["PAGE_SIZE"]."""

    page_size_query_param = "page_size"
    max_page_size = 200


class SearchFilter(filters.SearchFilter):
    """`?search=` over the view's `search_fields`; NUL characters are dropped (PostgreSQL refuses them)."""

    def get_search_terms(self, request) -> list[str]:
        return [term.replace("\x00", "") for term in super().get_search_terms(request) if term.replace("\x00", "")]


class LocalizedViewMixin:
    """Answers in the signed-in user's language and time zone, also for token-authenticated requests."""

    def perform_authentication(self, request) -> None:
        super().perform_authentication(request)
        user = request.user
        if user is not None and user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()


class RoleMayWrite(permissions.BasePermission):
    """Everyone signed in may read; only `writer_roles` may write.

    On a single record the role is checked after the record is found among those the user can see, so a record
    the user cannot see answers 404 before its role would answer 403.
    """

    writer_roles: tuple[str, ...] = ()

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS or getattr(view, "detail", False):
            return True
        return request.user.role in self.writer_roles

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or request.user.role in self.writer_roles


class IsDirectorOrReadOnly(RoleMayWrite):
    """Directors write (reference data, users, teams, stages); everyone else reads."""

    message = _("Only a sales director may change this.")
    writer_roles = ("director",)


class IsManagerOrDirectorOrReadOnly(RoleMayWrite):
    """Managers and directors write (sales targets); reps read."""

    message = _("Only a sales manager or director may change this.")
    writer_roles = ("manager", "director")


def parse_pk(value: Any) -> int | None:
    """The integer primary key in `value`, or None when it is not one the database could hold."""
    if isinstance(value, bool):
        return None
    try:
        pk = int(str(value))
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_PK else None


class PrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A primary-key reference that refuses malformed and out-of-range ids as "does not exist"."""

    def to_internal_value(self, data):
        if self.pk_field is None and parse_pk(data) is None:
            if isinstance(data, bool) or not isinstance(data, (int, str)):
                self.fail("incorrect_type", data_type=type(data).__name__)
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class VisibleField(PrimaryKeyField):
    """A reference to a row the requesting user can see (`Model.objects.visible_to(user)`); others do not exist.

    Of a model that is archived instead of deleted, only active rows are choices, and the value the record already
    holds (a PUT of what a GET returned still names an archived contact).
    """

    default_error_messages = {
        "does_not_exist": _("There is no {model} with id {pk_value} that you can see."),
        "archived": _("The {model} with id {pk_value} is archived."),
    }

    def __init__(self, *, model: type[models.Model], **kwargs):
        self.model = model
        kwargs.setdefault("queryset", model.objects.all())
        super().__init__(**kwargs)

    def visible_rows(self):
        request = self.context.get("request")
        if request is None:
            return self.model.objects.none()
        return self.model.objects.visible_to(request.user)

    def get_queryset(self):
        return self._choices(self.visible_rows(), current=self._current())

    def _current(self) -> int | None:
        return getattr(getattr(self.parent, "instance", None), f"{self.source}_id", None)

    @staticmethod
    def _choices(rows, *, current: int | None):
        if not _is_archivable(rows):
            return rows
        return rows.active() if current is None else rows.active() | rows.filter(pk=current)

    def to_internal_value(self, data):
        """The row with id `data` among the choices; its query is composed once per model, viewer role and shape
        (core.statements), where the model's rows know which fields of a viewer their rule reads."""
        request, pk = self.context.get("request"), parse_pk(data)
        shape = getattr(getattr(self.model._default_manager, "_queryset_class", None), "viewer_shape", None)
        if request is None or pk is None or self.pk_field is not None or shape is None:
            return super().to_internal_value(data)
        current = self._current()
        found = list(
            bound_queryset(
                ("visible field", self.model._meta.label),
                self._one_choice,
                keep={"viewer": shape},
                viewer=request.user,
                pk=pk,
                current=current,
            )
        )
        if not found:
            self.fail("does_not_exist", pk_value=data)
        return found[0]

    def _one_choice(self, *, viewer, pk: int, current: int | None):
        return self._choices(self.model.objects.visible_to(viewer), current=current).filter(pk=pk)

    def fail(self, key, **kwargs):
        if key == "does_not_exist":
            kwargs["model"] = self.model._meta.verbose_name
            rows = self.visible_rows()
            if _is_archivable(rows) and rows.archived().filter(pk=parse_pk(kwargs.get("pk_value"))).exists():
                key = "archived"
        super().fail(key, **kwargs)


def _is_archivable(rows) -> bool:
    return hasattr(rows, "active") and hasattr(rows, "archived")


class ModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose references refuse out-of-range ids and that checks the model's database constraints.

    Checking constraints here turns input the database would refuse into a 400 instead of a 500.
    """

    serializer_related_field = PrimaryKeyField
    check_constraints = True  # off where a service normalises the input before it is saved

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if not self.check_constraints:
            return attrs
        model = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        concrete = {f.name for f in model._meta.concrete_fields}
        for name, value in attrs.items():
            if name in concrete:
                setattr(instance, name, value)
        try:
            instance.validate_constraints()
        except DjangoValidationError as error:
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from error
        return attrs


class RefusedFieldsMixin:
    """Refuses, with a 400 naming the field, input for a field this request may not change.

    DRF silently drops read-only input; a client that sends a status, an owner or a stage by a plain update must
    hear that it was not applied. Sending back the value the record already has is accepted (a PUT of what a
    GET returned), as it changes nothing.
    """

    def refused_fields(self) -> dict[str, str]:
        """Field name -> why it cannot be set by this request."""
        return {}

    def current_representation(self) -> dict:
        """The refused fields as the record shows them now, read through `output_serializer_class` when set."""
        output_class = getattr(self, "output_serializer_class", None)
        if output_class is None:
            return {}
        fields = output_class(context=self.context).fields
        current = {}
        for name in self.refused_fields():
            if name in fields:
                value = fields[name].get_attribute(self.instance)
                current[name] = None if value is None else fields[name].to_representation(value)
        return current

    def to_internal_value(self, data):
        refused = self.refused_fields()
        if refused and hasattr(data, "keys"):
            current = self.current_representation() if self.instance is not None else {}
            errors = {
                name: [str(message)]
                for name, message in refused.items()
                if name in data and not (name in current and _same(data[name], current[name]))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _same(sent: Any, current: Any) -> bool:
    if sent is None or current is None:
        return sent is None and current is None
    if isinstance(current, bool) or isinstance(sent, bool):
        return str(sent).lower() == str(current).lower()
    if isinstance(current, list) and isinstance(sent, list):
        return sorted(map(str, sent)) == sorted(map(str, current))
    return str(sent) == str(current)


class IdempotentPostMixin:
    """A POST by a signed-in user that carries an `Idempotency-Key` header runs at most once per user and key within
    SALESFLOW_IDEMPOTENCY_HOURS: a retry with the same request gets the first answer (status and body) again, with
    `Idempotent-Replayed: true`; a retry with another request answers 422. See core/idempotency.py.
    """

    idempotent_posts = True  # the schema documents the header on this view's POSTs

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        key = request.headers.get(idempotency.HEADER)
        if key is not None and request.method == "POST" and request.user.is_authenticated:
            self.post = functools.partial(self._post_once, self.post, idempotency.parse_key(key))

    def _post_once(self, handler, key: str, request, *args, **kwargs) -> Response:
        first: list[Response] = []

        def produce() -> idempotency.Answer:
            response = handler(request, *args, **kwargs)
            first.append(response)
            return idempotency.Answer(status=response.status_code, body=_json_ready(response.data))

        answer = idempotency.run_once(
            user=request.user,
            key=key,
            request_fingerprint=idempotency.fingerprint(
                method=request.method, path=request.get_full_path(), body=_json_ready_input(request.data)
            ),
            produce=produce,
        )
        if not answer.replayed:
            return first[0]
        return Response(answer.body, status=answer.status, headers={"Idempotent-Replayed": "true"})


def _json_ready(data: Any) -> Any:
    """`data` as JSON would carry it (what the renderer sends), so a replay renders the very same bytes."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _json_ready_input(data: Any) -> Any:
    """A request body as JSON values: a form's lists of values; an uploaded file by name, size and type."""
    if hasattr(data, "lists"):
        data = dict(data.lists())
    return json.loads(json.dumps(data, cls=_InputEncoder))


class _InputEncoder(JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, UploadedFile):  # described, never read: it may be large
            return {"name": obj.name, "size": obj.size, "content_type": obj.content_type}
        return super().default(obj)


class SalesFlowViewSet(
    LocalizedViewMixin,
    ExportListMixin,
    IdempotentPostMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, create, retrieve and update (no delete) of the rows the user can see; anything else answers 404."""

    http_method_names: ClassVar[list[str]] = ["get", "post", "put", "patch", "head", "options"]
    pagination_class = Pagination
    filter_backends = (DjangoFilterBackend, SearchFilter, filters.OrderingFilter)
    detail_serializer_class: type[serializers.Serializer] | None = None
    create_serializer_class: type[serializers.Serializer] | None = None
    update_serializer_class: type[serializers.Serializer] | None = None

    def get_serializer_class(self):
        if self.action == "create" and self.create_serializer_class:
            return self.create_serializer_class
        if self.action in ("update", "partial_update") and self.update_serializer_class:
            return self.update_serializer_class
        if self.action == "list":
            return self.serializer_class
        return self.get_output_serializer_class()

    def get_output_serializer_class(self):
        """The serializer that answers for one record (retrieve, create, update and actions)."""
        return self.detail_serializer_class or self.serializer_class

    def get_output_serializer(self, instance, **kwargs):
        return self.get_output_serializer_class()(instance, context=self.get_serializer_context(), **kwargs)

    def get_object(self):
        if parse_pk(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)) is None:
            raise NotFound()
        return super().get_object()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_create(serializer)
        return Response(self.get_output_serializer(self.reload(instance)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_update(serializer)
        return Response(self.get_output_serializer(self.reload(instance)).data)

    def perform_create(self, serializer):
        return serializer.save()

    def perform_update(self, serializer):
        return serializer.save()

    def reload(self, instance):
        """The instance as the list/detail queryset loads it (annotations and related rows included)."""
        return self.get_queryset().get(pk=instance.pk)


class ArchivedFilter(filters.BaseFilterBackend):
    """`?archived=true` lists only archived records; without it (or `false`) lists leave them out. One record is
    found whether archived or not: its history stays readable."""

    param = "archived"

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) != "list":
            return queryset
        value = request.query_params.get(self.param, "false").strip().lower()
        if value not in ("true", "false", "1", "0"):
            raise serializers.ValidationError({self.param: [_("Must be true or false.")]})
        return queryset.archived() if value in ("true", "1") else queryset.active()

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return [
            {
                "name": self.param,
                "required": False,
                "in": "query",
                "description": str(_("true: only archived records; false (the default): only active ones.")),
                "schema": {"type": "boolean", "default": False},
            }
        ]


class ArchiveOnDeleteMixin:
    """A record that is archived instead of deleted, so its history and analytics stay whole.

    DELETE archives it and answers 204 (again 204 when it already is); `POST {id}/restore/` restores it and answers
    the record; the list leaves archived records out unless `?archived=true`. A viewset names its two services in
    `archive_instance` and `restore_instance`.
    """

    archives_on_delete = True  # the schema documents a 409 on DELETE
    http_method_names: ClassVar[list[str]] = ["get", "post", "put", "patch", "delete", "head", "options"]
    filter_backends = (DjangoFilterBackend, SearchFilter, filters.OrderingFilter, ArchivedFilter)

    def archive_instance(self, instance) -> None:
        raise NotImplementedError

    def restore_instance(self, instance):
        raise NotImplementedError

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs) -> Response:
        self.archive_instance(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs) -> Response:
        instance = self.restore_instance(self.get_object())
        return Response(self.get_output_serializer(self.reload(instance)).data)
