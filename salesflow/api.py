"""The REST API under /api/: the v1 router, the token endpoint, schema and docs, and the one exception handler."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiExample, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView, set_rollback
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.api import views as accounts_views
from accounts.api.authentication import TokenAuthentication
from accounts.tokens import issue_token, revoke_token
from core.api import LocalizedViewMixin
from core.errors import SalesFlowError
from core.signin import SignInLocked, is_locked_out
from pipeline.api.accounts import AccountViewSet
from pipeline.api.imports import ImportJobViewSet
from pipeline.api.opportunities import OpportunityViewSet
from pipeline.api.planning import SalesTargetViewSet, StageViewSet, WeekCommentViewSet
from pipeline.api.search import SearchView
from pipeline.api.visits import VisitViewSet
from pipeline.api.webhooks import WebhookEndpointViewSet

RESERVED_KEYS = frozenset({"detail", "code", "unmet"})


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Answers every API error as JSON: {"detail": first message, "code": ..., "<field>": [messages], ...}.

    A SalesFlowError answers its own status, except that a refusal naming a field is a 400: the field's input was
    refused (a rep may not set another owner), not the record. Anything else unhandled stays a 500.
    """
    if isinstance(exc, SalesFlowError):
        return _sales_flow_error_response(exc)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(serializers.as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()  # the same answer whether the row is missing or not visible
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        response.data = _validation_body(response.data)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = {"detail": str(detail), "code": _first_code(getattr(exc, "detail", None)) or "error"}
    return response


def _sales_flow_error_response(exc: SalesFlowError) -> Response:
    message = str(exc.message)
    body: dict[str, Any] = {_field_key(exc.field): [message]} if exc.field else {}
    body.update(detail=message, code=exc.code)
    unmet = exc.as_dict().get("unmet")
    if unmet is not None:
        body["unmet"] = unmet
    status = 400 if exc.field and exc.status == 403 else exc.status
    set_rollback()
    return Response(body, status=status)


def _validation_body(data: Any) -> dict[str, Any]:
    errors = data if isinstance(data, dict) else {"non_field_errors": data}
    body: dict[str, Any] = {_field_key(str(name)): _messages(value) for name, value in errors.items()}
    first_key = next(iter(body), None)
    body["detail"] = body[first_key][0] if first_key and body[first_key] else str(_("Invalid input."))
    body["code"] = _first_code(data) or "invalid"
    return body


def _field_key(name: str) -> str:
    return f"{name}_errors" if name in RESERVED_KEYS else name


def _messages(value: Any, prefix: str = "") -> list[str]:
    """Flattens nested errors (list items, nested objects) into messages, prefixed with where they occurred."""
    if isinstance(value, dict):
        return [message for key, item in value.items() for message in _messages(item, f"{prefix}{key}: ")]
    if isinstance(value, list):
        return [message for item in value for message in _messages(item, prefix)]
    return [f"{prefix}{value}"]


def _first_code(detail: Any) -> str | None:
    if isinstance(detail, ErrorDetail):
        return detail.code
    if isinstance(detail, dict):
        detail = list(detail.values())
    if isinstance(detail, list):
        return next((code for item in detail if (code := _first_code(item))), None)
    return None


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        read_only=True, help_text=_("Send it as `Authorization: Token <token>`. Shown only this once.")
    )
    expires_at = serializers.DateTimeField(
        read_only=True, help_text=_("When the token stops working; a password change ends it sooner.")
    )


class AuthTokenView(LocalizedViewMixin, APIView):
    """POST: a username and password give a new token for this device (each call issues another; it expires, and a
    password change revokes them all). DELETE: revokes the token that signs the request.

    Failed passwords count towards the sign-in lockout (core/signin.py): once a username or an address is locked,
    POST answers 429 with Retry-After, right password or not.
    """

    throttle_scope = "auth"

    # POST proves a password and ignores any Authorization header; DELETE is signed by the token it revokes. (The
    # schema generator asks before it has set a request.)
    @property
    def authentication_classes(self) -> list:
        return [TokenAuthentication] if self._is_delete() else []

    @property
    def permission_classes(self) -> list:
        return [IsAuthenticated] if self._is_delete() else [AllowAny]

    def _is_delete(self) -> bool:
        return getattr(getattr(self, "request", None), "method", None) == "DELETE"

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        request=AuthTokenSerializer,
        responses={200: TokenSerializer},
        auth=[],
        examples=[
            OpenApiExample("Sign in", value={"username": "rep1", "password": "salesflow"}, request_only=True),
            OpenApiExample(
                "Token",
                value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "expires_at": "2026-04-01T09:30:00+08:00"},
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            if is_locked_out(request):
                raise SignInLocked()
            raise ValidationError(serializer.errors)
        issued = issue_token(user=serializer.validated_data["user"])
        return Response(TokenSerializer({"token": issued.key, "expires_at": issued.token.expires_at}).data)

    @extend_schema(operation_id="auth_token_destroy", tags=["auth"], request=None, responses={204: None})
    def delete(self, request):
        revoke_token(token=request.auth)
        return Response(status=204)


router = DefaultRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", accounts_views.ContactViewSet, basename="contact")
router.register("installed-base", accounts_views.InstalledBaseViewSet, basename="installed-base")
router.register("account-years", accounts_views.AccountYearViewSet, basename="account-year")
router.register("competitors", accounts_views.CompetitorViewSet, basename="competitor")
router.register("regions", accounts_views.RegionViewSet, basename="region")
router.register("industries", accounts_views.IndustryViewSet, basename="industry")
router.register("teams", accounts_views.TeamViewSet, basename="team")
router.register("users", accounts_views.UserViewSet, basename="user")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("visits", VisitViewSet, basename="visit")
router.register("targets", SalesTargetViewSet, basename="target")
router.register("stages", StageViewSet, basename="stage")
router.register("week-comments", WeekCommentViewSet, basename="week-comment")
router.register("imports", ImportJobViewSet, basename="import")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")


class DocsAccess(BasePermission):
    """The schema and its docs are for signed-in users, unless settings.API_DOCS_PUBLIC opens them."""

    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


_swagger = SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[DocsAccess])


def api_docs(request, *args, **kwargs):
    """Swagger UI with its script served as a file (the Content-Security-Policy allows no inline script); a visitor
    who is not signed in is sent to the login page first."""
    if not settings.API_DOCS_PUBLIC and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _swagger(request, *args, **kwargs)


@csrf_exempt
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any other path under /api/ answers a JSON 404 like the endpoints do, not an HTML page."""
    return JsonResponse({"detail": str(_("Not found.")), "code": "not_found"}, status=404)


urlpatterns = [
    path("v1/auth/token/", AuthTokenView.as_view(), name="api-token"),
    path("v1/analytics/", include("analytics.api.urls")),
    path("v1/search/", SearchView.as_view(), name="api-search"),  # SPEC §9: /api/v1/analytics/...
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[DocsAccess]), name="api-schema"),
    path("docs/", api_docs, name="api-docs"),
]

urlpatterns.append(re_path(r"", not_found))
