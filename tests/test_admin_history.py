"""Edits made in the admin are recorded like any other, and targets set there follow the target rules."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountChange
from pipeline.models import OpportunityChange, SalesTarget, TargetChange
from tests.factories import AccountFactory, OpportunityFactory, SalesTargetFactory, UserFactory

pytestmark = pytest.mark.django_db


def change_url(row) -> str:
    return reverse(f"admin:{row._meta.app_label}_{row._meta.model_name}_change", args=[row.pk])


def posted(client, row, data: dict):
    """Posts the admin change form of `row` with its current values, overridden by `data`."""
    form = client.get(change_url(row)).context["adminform"].form
    values = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, list):
            value = [getattr(item, "pk", item) for item in value]
        if hasattr(field.widget, "widgets") and value is not None:  # a split date and time
            local = timezone.localtime(value)
            values[f"{name}_0"], values[f"{name}_1"] = local.date().isoformat(), local.time().isoformat()
        else:
            values[name] = "" if value is None else value
    values.update(data)
    for prefix in ("contacts", "installed_base", "years", "stage_changes"):  # empty inline formsets
        for suffix, number in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0), ("MIN_NUM_FORMS", 0), ("MAX_NUM_FORMS", 1000)):
            values[f"{prefix}-{suffix}"] = number
    return client.post(change_url(row), values)


def test_an_opportunity_edited_in_the_admin_records_the_fields_it_changed(admin_client, admin_user):
    opportunity = OpportunityFactory(name="旧", amount=Decimal("100"))

    response = posted(admin_client, opportunity, {"name": "新", "amount": "250.00"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    rows = OpportunityChange.objects.order_by("id").values_list("field", "old", "new", "by")
    assert list(rows) == [("name", "旧", "新", admin_user.pk), ("amount", "100.00", "250.00", admin_user.pk)]


def test_an_account_edited_in_the_admin_records_the_fields_it_changed(admin_client, admin_user):
    account = AccountFactory(notes="")

    response = posted(admin_client, account, {"notes": "重点跟进"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(AccountChange.objects.values_list("account", "field", "old", "new", "by")) == [
        (account.pk, "notes", "", "重点跟进", admin_user.pk)
    ]


def test_a_target_changed_in_the_admin_goes_through_the_target_service_and_is_recorded(admin_client, admin_user):
    target = SalesTargetFactory(amount=Decimal("1000"))

    response = posted(admin_client, target, {"amount": "800.00"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(TargetChange.objects.values_list("target", "field", "old", "new", "by")) == [
        (target.pk, "amount", "1000.00", "800.00", admin_user.pk)
    ]


def test_a_target_added_in_the_admin_must_start_on_the_first_day_of_its_period(admin_client):
    rep = UserFactory()
    add = reverse("admin:pipeline_salestarget_add")
    body = {"owner_user": rep.pk, "period_type": "month", "amount": "5.00"}

    refused = admin_client.post(add, {**body, "period_start": "2025-06-15"})
    added = admin_client.post(add, {**body, "period_start": "2025-06-01"})

    assert "period_start" in refused.context["adminform"].form.errors
    assert added.status_code == 302
    assert list(SalesTarget.objects.values_list("owner_user", "period_start")) == [(rep.pk, date(2025, 6, 1))]


def test_a_staff_manager_cannot_set_their_own_target_in_the_admin(client, org):
    org.manager_a.is_staff = True
    org.manager_a.save(update_fields=["is_staff"])
    org.manager_a.user_permissions.set(Permission.objects.filter(codename__in=["add_salestarget", "view_salestarget"]))
    client.force_login(org.manager_a)

    response = client.post(
        reverse("admin:pipeline_salestarget_add"),
        {"owner_user": org.manager_a.pk, "period_type": "month", "period_start": "2025-06-01", "amount": "5.00"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert SalesTarget.objects.count() == 0
