"""Field-level change history of accounts (SPEC §1): one row per changed field, owner included.

Registered with the accounts app through accounts/models.py; the services that change an account write these rows
(core.history.record_changes) in the transaction of the change.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import FieldChange


class AccountChange(FieldChange):
    """One field of an account changed (owner included); written by the services that change accounts."""

    parent_field = "account"

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="changes"
    )

    class Meta(FieldChange.Meta):
        verbose_name = _("account change")
        verbose_name_plural = _("account changes")
        indexes = [models.Index(fields=["account", "-at", "-id"], name="accountchange_account_at_idx")]
