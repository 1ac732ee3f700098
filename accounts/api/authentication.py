"""`Authorization: Token <key>` for the API tokens of accounts/tokens.py.

A subclass of DRF's TokenAuthentication, so the header parsing, the 401 with `WWW-Authenticate: Token` and the
OpenAPI `tokenAuth` scheme stay as they were; only the lookup is ours (by digest, unexpired, same password).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.tokens import usable_token


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str):
        token = usable_token(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return token.user, token
