"""Viewsets of the accounts API. Every queryset starts from `.visible_to(user)`: what is not visible answers 404.

An account seen through an opportunity or a visit at it is read-only, and so are its contacts, installed base and
figures: a write to one answers 403 (`ReadOnlyUnlessEditableMixin`).

The `accounts` resource itself lives in pipeline/api (changing an account's owner reassigns its open opportunities).
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions

from accounts import filters
from accounts.api.serializers import (
    AccountYearSerializer,
    CompetitorSerializer,
    ContactSerializer,
    IndustrySerializer,
    InstalledBaseSerializer,
    RegionSerializer,
    TeamSerializer,
    UserSerializer,
)
from accounts.exports import contact_table
from accounts.models import Account, AccountYear, Competitor, Contact, Industry, InstalledBase, Region, Team, User
from accounts.services import (
    CONTACT_FIELDS,
    USER_FIELDS,
    archive_contact,
    archive_team,
    create_contact,
    restore_contact,
    restore_team,
    update_contact,
    update_user,
)
from core.api import ArchiveOnDeleteMixin, IsDirectorOrReadOnly, SalesFlowViewSet
from core.errors import NotAllowed

READ_ONLY_MESSAGE = _("You can see this record but not change it: the account belongs to someone else.")


class ReadOnlyUnlessEditableMixin:
    """Rows whose visibility reaches further than who may change them (accounts and their rows): a write loads its
    row through `editable_by`, so one the user sees read-only answers 403 and one they do not see 404.

    `visible_rows(Model.objects)` gives the queryset a viewset's `get_queryset` starts from. A write costs no more
    queries than a read; only a refused one asks whether the row is visible at all.
    """

    _loading_for_write = False

    def visible_rows(self, rows):
        user = self.request.user
        return rows.editable_by(user) if self._loading_for_write else rows.visible_to(user)

    def get_object(self):
        if self.request.method in permissions.SAFE_METHODS:
            return super().get_object()
        self._loading_for_write = True
        try:
            return super().get_object()
        except Http404:
            self._loading_for_write = False
            pk = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
            if self.get_queryset().filter(pk=pk).exists():
                raise NotAllowed(READ_ONLY_MESSAGE) from None
            raise
        finally:
            self._loading_for_write = False


def check_account_editable(*, user: User, account: Account | None) -> None:
    """A row about an account is written only at an account `user` may change (403 otherwise)."""
    if account is not None and not Account.objects.editable_by(user).filter(pk=account.pk).exists():
        raise NotAllowed(READ_ONLY_MESSAGE)


@extend_schema_view(
    list=extend_schema(summary="List contacts at the accounts you can see"),
    create=extend_schema(summary="Add a contact to an account you can see"),
    retrieve=extend_schema(summary="A contact"),
    update=extend_schema(summary="Change a contact"),
    partial_update=extend_schema(summary="Change some fields of a contact"),
    destroy=extend_schema(
        summary="Archive a contact (someone who left the customer)",
        description="Nothing is deleted: the contact leaves lists and choices (`?archived=true` lists it, with the "
        "contacts of archived accounts) and its visits keep naming it.",
    ),
    restore=extend_schema(summary="Restore an archived contact"),
)
class ContactViewSet(ReadOnlyUnlessEditableMixin, ArchiveOnDeleteMixin, SalesFlowViewSet):
    """Contacts (联系人) at the accounts you can see, with buying role and communication style."""

    serializer_class = ContactSerializer
    export_table = staticmethod(contact_table)
    filterset_class = filters.ContactFilter
    search_fields = ["name", "title", "department", "phone", "email", "account__name"]
    ordering_fields = ["name", "created_at", "account__name", "buying_role"]
    ordering = ["account__name", "name"]

    def get_queryset(self):
        return self.visible_rows(Contact.objects)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        return create_contact(created_by=self.request.user, account=data.pop("account"), name=data.pop("name"), **data)

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k in CONTACT_FIELDS}
        return update_contact(contact=serializer.instance, changed_by=self.request.user, **fields)

    def archive_instance(self, instance: Contact) -> None:
        archive_contact(contact=instance, archived_by=self.request.user)

    def restore_instance(self, instance: Contact) -> Contact:
        return restore_contact(contact=instance, restored_by=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List installed base (machines in field) at the accounts you can see"),
    create=extend_schema(summary="Record units in field at an account you can see"),
    retrieve=extend_schema(summary="An installed-base row"),
    update=extend_schema(summary="Change an installed-base row"),
    partial_update=extend_schema(summary="Change some fields of an installed-base row"),
)
class InstalledBaseViewSet(ReadOnlyUnlessEditableMixin, SalesFlowViewSet):
    """Installed base (MIF): units in field at an account, ours or a competitor's."""

    serializer_class = InstalledBaseSerializer
    filterset_class = filters.InstalledBaseFilter
    search_fields = ["product", "account__name", "competitor__name"]
    ordering_fields = ["account__name", "product", "units", "year"]
    ordering = ["account__name", "-is_ours", "product", "id"]

    def get_queryset(self):
        return self.visible_rows(InstalledBase.objects)

    def perform_create(self, serializer):
        check_account_editable(user=self.request.user, account=serializer.validated_data.get("account"))
        return serializer.save()

    def perform_update(self, serializer):
        check_account_editable(user=self.request.user, account=serializer.validated_data.get("account"))
        return serializer.save()


@extend_schema_view(
    list=extend_schema(summary="List yearly figures (other revenue, potential value) of the accounts you can see"),
    create=extend_schema(summary="Record an account's figures for a year"),
    retrieve=extend_schema(summary="An account's figures for a year"),
    update=extend_schema(summary="Change an account's figures for a year"),
    partial_update=extend_schema(summary="Change some of an account's figures for a year"),
)
class AccountYearViewSet(ReadOnlyUnlessEditableMixin, SalesFlowViewSet):
    """An account's figures per year: other revenue (service, consumables) and an explicit potential value."""

    serializer_class = AccountYearSerializer
    filterset_class = filters.AccountYearFilter
    search_fields = ["account__name"]
    ordering_fields = ["year", "account__name", "other_revenue", "potential_value"]
    ordering = ["account__name", "-year"]

    def get_queryset(self):
        return self.visible_rows(AccountYear.objects)

    def perform_create(self, serializer):
        check_account_editable(user=self.request.user, account=serializer.validated_data.get("account"))
        return serializer.save()

    def perform_update(self, serializer):
        check_account_editable(user=self.request.user, account=serializer.validated_data.get("account"))
        return serializer.save()


class ReferenceDataViewSet(SalesFlowViewSet):
    """Shared lists everyone signed in reads and directors maintain."""

    permission_classes = [*SalesFlowViewSet.permission_classes, IsDirectorOrReadOnly]


@extend_schema_view(
    list=extend_schema(summary="List competitors"),
    create=extend_schema(summary="Add a competitor (directors)"),
    retrieve=extend_schema(summary="A competitor"),
    update=extend_schema(summary="Change a competitor (directors)"),
    partial_update=extend_schema(summary="Change some fields of a competitor (directors)"),
)
class CompetitorViewSet(ReferenceDataViewSet):
    """Competitors: everyone reads, directors maintain."""

    serializer_class = CompetitorSerializer
    queryset = Competitor.objects.all()
    filterset_fields = ["name"]
    search_fields = ["name", "name_en", "notes"]
    ordering_fields = ["name", "name_en", "id"]
    ordering = ["name"]


@extend_schema_view(
    list=extend_schema(summary="List regions (three levels: area, province/city, district)"),
    create=extend_schema(summary="Add a region (directors)"),
    retrieve=extend_schema(summary="A region"),
    update=extend_schema(summary="Change a region (directors)"),
    partial_update=extend_schema(summary="Change some fields of a region (directors)"),
)
class RegionViewSet(ReferenceDataViewSet):
    """The region tree (area, province/city, district): everyone reads, directors maintain."""

    serializer_class = RegionSerializer
    queryset = Region.objects.all()
    filterset_class = filters.RegionFilter
    search_fields = ["code", "name", "name_en"]
    ordering_fields = ["code", "name", "level"]
    ordering = ["code"]


@extend_schema_view(
    list=extend_schema(summary="List industries"),
    create=extend_schema(summary="Add an industry (directors)"),
    retrieve=extend_schema(summary="An industry"),
    update=extend_schema(summary="Change an industry (directors)"),
    partial_update=extend_schema(summary="Change some fields of an industry (directors)"),
)
class IndustryViewSet(ReferenceDataViewSet):
    """Industries, with the spend per employee used to estimate potential value: everyone reads, directors maintain."""

    serializer_class = IndustrySerializer
    queryset = Industry.objects.all()
    filterset_class = filters.IndustryFilter
    search_fields = ["code", "name", "name_en"]
    ordering_fields = ["code", "name"]
    ordering = ["code"]


@extend_schema_view(
    list=extend_schema(summary="List the teams you belong to or manage (directors: all)"),
    create=extend_schema(summary="Add a team (directors)"),
    retrieve=extend_schema(summary="A team"),
    update=extend_schema(summary="Change a team (directors)"),
    partial_update=extend_schema(summary="Change some fields of a team (directors)"),
    destroy=extend_schema(
        summary="Archive a team (directors); refused while it has active members",
        description="Nothing is deleted: the team leaves lists and choices (`?archived=true` lists it) and keeps "
        "its targets and history.",
    ),
    restore=extend_schema(summary="Restore an archived team (directors)"),
)
class TeamViewSet(ArchiveOnDeleteMixin, ReferenceDataViewSet):
    """Sales teams: members and managers see their team, directors all and maintain them."""

    serializer_class = TeamSerializer
    filterset_class = filters.TeamFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        teams = Team.objects.prefetch_related("members")
        if getattr(self, "swagger_fake_view", False):
            return teams
        return teams.visible_to(self.request.user)

    def archive_instance(self, instance: Team) -> None:
        archive_team(team=instance, archived_by=self.request.user)

    def restore_instance(self, instance: Team) -> Team:
        return restore_team(team=instance, restored_by=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List the users you can see (yourself; managers: their team; directors: all)"),
    create=extend_schema(summary="Add a user (directors; sign-in needs a password set in the admin)"),
    retrieve=extend_schema(summary="A user"),
    update=extend_schema(
        summary="Change a user (directors)",
        description="The last active sales director cannot be demoted or deactivated (400, code `last_director`).",
    ),
    partial_update=extend_schema(
        summary="Change some fields of a user (directors)",
        description="The last active sales director cannot be demoted or deactivated (400, code `last_director`).",
    ),
)
class UserViewSet(ReferenceDataViewSet):
    """Users you can see (yourself; a manager their team; a director everyone). Read-only except for directors."""

    serializer_class = UserSerializer
    filterset_class = filters.UserFilter
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering_fields = ["username", "last_name", "role", "date_joined"]
    ordering = ["username"]

    def get_queryset(self):
        return User.objects.visible_to(self.request.user)

    def perform_create(self, serializer):
        # Passwords are never sent through the API; a director sets one in the admin (or the user resets it).
        return serializer.save(password=make_password(None))

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k in USER_FIELDS}
        return update_user(user=serializer.instance, changed_by=self.request.user, **fields)
