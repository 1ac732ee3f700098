"""REST API tokens: several per user (one per device), stored only as a SHA-256 digest, expiring after
API_TOKEN_TTL_DAYS, revoked by the device that holds one, and void once the user's password changes.

A password change revokes every token without a signal: each token keeps a fingerprint (an HMAC under SECRET_KEY) of
the password hash it was issued under; set_password, the admin's password form and a password reset all store a new
hash, and a token whose fingerprint no longer matches is refused, like a session after a password change.

The model lives here beside its services; accounts/models.py imports it so Django registers it with the app.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from core.statements import bound_queryset

FINGERPRINT_SALT = "salesflow.accounts.tokens.password_fingerprint"


class ApiTokenQuerySet(models.QuerySet):
    def unexpired(self) -> ApiTokenQuerySet:
        return self.filter(expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """One device's API token. The raw key is shown once, when it is issued; only its digest is stored."""

    user = models.ForeignKey(
        "accounts.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(_("key digest"), max_length=64, unique=True, editable=False)
    password_fingerprint = models.CharField(_("password fingerprint"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="api_token_expires_after_issue"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # the raw key, for the response that issues it; never stored


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def password_fingerprint(user, *, secret: str | None = None) -> str:
    """An HMAC of the user's stored password hash: it changes whenever the password does, and reveals nothing."""
    return salted_hmac(FINGERPRINT_SALT, user.password, secret=secret, algorithm="sha256").hexdigest()


def issued_under_current_password(token: ApiToken) -> bool:
    """True while the user's password is the one the token was issued under (old SECRET_KEYs in
    SECRET_KEY_FALLBACKS still verify, as they do for sessions)."""
    return any(
        constant_time_compare(token.password_fingerprint, password_fingerprint(token.user, secret=secret))
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    )


@transaction.atomic
def issue_token(*, user) -> IssuedToken:
    """Issues a new token for one more device of a user who has just proved their password, and deletes the user's
    tokens that no longer work (expired, or issued under another password); returns the raw key once."""
    now = timezone.now()
    fingerprint = password_fingerprint(user)
    user.api_tokens.filter(Q(expires_at__lte=now) | ~Q(password_fingerprint=fingerprint)).delete()
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user,
        digest=key_digest(key),
        password_fingerprint=fingerprint,
        created_at=now,
        expires_at=now + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    return IssuedToken(token=token, key=key)


def revoke_token(*, token: ApiToken) -> None:
    """Deletes one token; revoking it again deletes nothing."""
    ApiToken.objects.filter(pk=token.pk).delete()


def _token_by_digest(*, digest: str, now: datetime) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(expires_at__gt=now, digest=digest).select_related("user")[:1]


def usable_token(key: str) -> ApiToken | None:
    """Returns the token with this raw key, with its user, if it has not expired, its user is active and their
    password has not changed since it was issued; None otherwise. One query, composed once per process (every API
    request asks it: core.statements)."""
    found = bound_queryset("api token", _token_by_digest, digest=key_digest(key), now=timezone.now())
    token = next(iter(found), None)
    if token is None or not token.user.is_active or not issued_under_current_password(token):
        return None
    return token
