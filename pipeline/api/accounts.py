"""The `accounts` resource. It lives in pipeline because an account edit is `edit_account`, whose owner change also
moves the account's open opportunities."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from accounts.api.views import ReadOnlyUnlessEditableMixin
from accounts.exports import account_table
from accounts.facts import customer_type_for
from accounts.models import Account, InstalledBase, User
from accounts.services import ACCOUNT_FIELDS, archive_account, assignable_owners, create_account, restore_account
from core.api import ArchiveOnDeleteMixin, ModelSerializer, PrimaryKeyField, SalesFlowViewSet, VisibleField
from pipeline import filters
from pipeline.api.history import HistoryActionMixin, history_schema
from pipeline.services.accounts import edit_account


class AssignableOwnerField(PrimaryKeyField):
    """A user the requesting user may make the owner of an account (a rep: themself)."""

    default_error_messages = {"does_not_exist": _("You cannot make user {pk_value} the owner.")}

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return User.objects.none()
        return assignable_owners(user=request.user)


class AccountSerializer(ModelSerializer):
    check_constraints = False  # create_account/update_account normalise target_since and check the parent
    owner = AssignableOwnerField(
        queryset=User.objects.none(),
        required=False,
        help_text=_("User id of the owner; defaults to you. Changing it reassigns the account's open opportunities."),
    )
    parent = VisibleField(
        model=Account, required=False, allow_null=True, help_text=_("Id of the headquarters account.")
    )
    size_band = serializers.CharField(read_only=True, help_text=_("Derived from the employee count."))
    customer_type = serializers.SerializerMethodField(
        help_text=_("From the installed base: ours, competitor, mixed or none.")
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "industry",
            "employee_count",
            "size_band",
            "region",
            "address",
            "owner",
            "is_target",
            "target_since",
            "parent",
            "is_headquarters",
            "external_key",
            "notes",
            "customer_type",
            "created_at",
            "updated_at",
            "archived_at",
        ]
        read_only_fields = ["created_at", "updated_at", "archived_at"]
        extra_kwargs = {"employee_count": {"max_value": 2**31 - 1}}

    @extend_schema_field(serializers.ChoiceField(choices=["ours", "competitor", "mixed", "none"]))
    def get_customer_type(self, account: Account) -> str:
        return customer_type_for(
            our_units=getattr(account, "our_units", 0), competitor_units=getattr(account, "competitor_units", 0)
        )


def _units(*, is_ours: bool) -> Coalesce:
    """Installed units at the row's account, ours or competitors', as a subquery (0 when none)."""
    rows = InstalledBase.objects.filter(account=OuterRef("pk"), is_ours=is_ours).order_by().values("account")
    return Coalesce(Subquery(rows.annotate(total=Sum("units")).values("total")[:1]), 0)


@extend_schema_view(
    list=extend_schema(summary="List the accounts you can see"),
    create=extend_schema(summary="Create an account (a rep for themself, a manager for their team)"),
    retrieve=extend_schema(summary="An account"),
    update=extend_schema(summary="Change an account; a new owner reassigns its open opportunities"),
    partial_update=extend_schema(summary="Change some fields of an account"),
    destroy=extend_schema(
        summary="Archive an account (managers, directors); refused while it has open opportunities",
        description="Nothing is deleted: the account leaves lists and pickers (`?archived=true` lists it) and keeps "
        "its contacts, installed base, figures, opportunities and visits; its wins still count in analytics.",
    ),
    restore=extend_schema(summary="Restore an archived account (managers, directors)"),
    history=history_schema("accounts"),
)
class AccountViewSet(ReadOnlyUnlessEditableMixin, ArchiveOnDeleteMixin, HistoryActionMixin, SalesFlowViewSet):
    """Accounts (客户) you can see. A new owner (managers and directors) also takes over the open opportunities."""

    serializer_class = AccountSerializer
    export_table = staticmethod(account_table)
    filterset_class = filters.AccountFilter
    search_fields = ["name", "address", "external_key", "notes"]
    ordering_fields = ["name", "created_at", "updated_at", "employee_count", "target_since"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return self.visible_rows(Account.objects).annotate(
            our_units=_units(is_ours=True), competitor_units=_units(is_ours=False)
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        return create_account(created_by=self.request.user, name=data.pop("name"), **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        fields = {k: v for k, v in data.items() if k in ACCOUNT_FIELDS}
        return edit_account(
            account=serializer.instance, changed_by=self.request.user, owner=data.get("owner"), **fields
        )

    def archive_instance(self, instance: Account) -> None:
        archive_account(account=instance, archived_by=self.request.user)

    def restore_instance(self, instance: Account) -> Account:
        return restore_account(account=instance, restored_by=self.request.user)
