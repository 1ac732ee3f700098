"""Serializers of the accounts API: shapes and types only; rules live in services and model constraints."""

from __future__ import annotations

import functools
import zoneinfo

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Account, AccountYear, Competitor, Contact, Industry, InstalledBase, Region, Team, User
from core.api import ModelSerializer, PrimaryKeyField, RefusedFieldsMixin, VisibleField

FIXED_ACCOUNT = _("A record stays with its account; create a new one at the other account instead.")


class AccountRowSerializer(RefusedFieldsMixin, ModelSerializer):
    """A row that belongs to an account the user can see, and stays with it."""

    account = VisibleField(model=Account, help_text=_("Id of an account you can see."))

    def refused_fields(self) -> dict[str, str]:
        return {"account": FIXED_ACCOUNT} if self.instance is not None else {}

    def current_representation(self) -> dict:
        return {"account": self.instance.account_id}


class ContactSerializer(AccountRowSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "name",
            "title",
            "department",
            "phone",
            "email",
            "buying_role",
            "communication_style",
            "birthday",
            "notes",
            "created_at",
            "archived_at",
        ]
        read_only_fields = ["created_at", "archived_at"]


class InstalledBaseSerializer(AccountRowSerializer):
    class Meta:
        model = InstalledBase
        fields = ["id", "account", "is_ours", "competitor", "product", "units", "year"]
        extra_kwargs = {
            "competitor": {"help_text": _("The competitor whose units these are; empty when they are ours.")},
            "year": {"min_value": 1900, "max_value": 2100},
        }

    def validate(self, attrs: dict) -> dict:
        is_ours = attrs.get("is_ours", getattr(self.instance, "is_ours", False))
        competitor = attrs.get("competitor", getattr(self.instance, "competitor", None))
        if is_ours and competitor is not None:
            raise serializers.ValidationError({"competitor": [_("Leave the competitor empty for our own units.")]})
        if not is_ours and competitor is None:
            raise serializers.ValidationError({"competitor": [_("Name the competitor whose units these are.")]})
        return super().validate(attrs)


class AccountYearSerializer(AccountRowSerializer):
    class Meta:
        model = AccountYear
        fields = ["id", "account", "year", "other_revenue", "potential_value"]
        extra_kwargs = {
            "year": {"min_value": 1900, "max_value": 2100},
            "other_revenue": {"min_value": 0},
            "potential_value": {"min_value": 0},
        }


class CompetitorSerializer(ModelSerializer):
    class Meta:
        model = Competitor
        fields = ["id", "name", "name_en", "notes"]


class RegionSerializer(ModelSerializer):
    parent = PrimaryKeyField(
        queryset=Region.objects.all(), allow_null=True, required=False, help_text=_("Id of the region one level up.")
    )

    class Meta:
        model = Region
        fields = ["id", "code", "name", "name_en", "level", "parent"]

    def validate(self, attrs: dict) -> dict:
        level = attrs.get("level", getattr(self.instance, "level", None))
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        if level == Region.Level.AREA and parent is not None:
            raise serializers.ValidationError({"parent": [_("A top-level region has no parent.")]})
        if level is not None and level > Region.Level.AREA and (parent is None or parent.level != level - 1):
            raise serializers.ValidationError({"parent": [_("Choose a parent region one level up.")]})
        return super().validate(attrs)


class IndustrySerializer(ModelSerializer):
    class Meta:
        model = Industry
        fields = ["id", "code", "name", "name_en", "spend_per_employee"]
        extra_kwargs = {"spend_per_employee": {"min_value": 0}}


class TeamSerializer(ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text=_("Ids of the team's users."))

    class Meta:
        model = Team
        fields = ["id", "name", "manager", "members", "created_at", "archived_at"]
        read_only_fields = ["created_at", "archived_at"]


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class UserSerializer(ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "first_name",
            "last_name",
            "email",
            "role",
            "team",
            "language",
            "time_zone",
            "digest_opt_out",
            "is_active",
            "date_joined",
            "last_login",
        ]
        read_only_fields = ["date_joined", "last_login"]

    def validate_time_zone(self, value: str) -> str:
        if value not in _time_zones():
            raise serializers.ValidationError(_("Choose a time zone such as Asia/Shanghai."))
        return value
