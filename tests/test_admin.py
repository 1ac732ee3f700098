"""The Django admin: every model's pages render for a superuser, lists do not grow queries with rows."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, AccountChange, Region
from accounts.tokens import issue_token
from analytics.models import (
    AccountValue,
    ClosedMonthSum,
    DigestDelivery,
    ForecastSnapshot,
    JobAttempt,
    JobRun,
    MatrixRun,
    ReminderDelivery,
    RolledMonth,
    StaleFlag,
    TerritorySnapshot,
    UntouchedFlag,
    VisitMonthSum,
)
from core.models import ExportRecord
from pipeline.admin import OpportunityAdmin
from pipeline.models import (
    ForecastCall,
    ForecastCallChange,
    ImportJob,
    Opportunity,
    OpportunityChange,
    Reassignment,
    TargetChange,
    Visit,
    VisitWeekComment,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.factories import (
    AccountFactory,
    AccountYearFactory,
    CompetitorFactory,
    ContactFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    RegionFactory,
    SalesTargetFactory,
    StageChangeFactory,
    TeamFactory,
    UserFactory,
    VisitFactory,
)

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
MODEL_IDS = [model._meta.label for model, _ in REGISTERED]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def one_of_each(db):
    """At least one row of every model, so list columns and change pages render real values."""
    manager = UserFactory(username="boss", role="manager", first_name="Ming", last_name="Wang")
    team = TeamFactory(name="East", manager=manager)
    rep = UserFactory(username="rep", team=team)
    account = AccountFactory(owner=rep, is_target=True, target_since=date(2026, 1, 1))
    ContactFactory(account=account)
    InstalledBaseFactory(account=account)
    InstalledBaseFactory(account=account, is_ours=False, competitor=CompetitorFactory())
    AccountYearFactory(account=account, year=2026)
    opportunity = OpportunityFactory(account=account, owner=rep)
    StageChangeFactory(opportunity=opportunity)
    VisitFactory(account=account, opportunity=opportunity)
    VisitWeekComment.objects.create(rep=rep, week_start=date(2026, 3, 2), author=manager, text="Good week")
    target = SalesTargetFactory(owner_user=rep)
    SalesTargetFactory(owner_user=None, owner_team=team)
    AccountChange.objects.create(account=account, by=manager, field="notes", old="", new="Key account")
    OpportunityChange.objects.create(opportunity=opportunity, by=manager, field="amount", old="1.00", new="2.00")
    TargetChange.objects.create(target=target, by=manager, field="amount", old="1.00", new="2.00")
    call = ForecastCall.objects.create(
        owner_user=rep, period_type="quarter", period_start=date(2026, 4, 1), amount=Decimal(5), called_by=manager
    )
    ForecastCallChange.objects.create(call=call, by=manager, field="amount", old=None, new="5.00")
    Reassignment.objects.create(account=account, from_owner=manager, to_owner=rep, reassigned_by=manager)
    run = MatrixRun.objects.create(year=2026, cv_threshold=Decimal("1"), pv_threshold=Decimal("2"))
    AccountValue.objects.create(
        run=run, account=account, year=2026, cv=Decimal("1"), pv=Decimal("2"), share=0.5, quadrant="core"
    )
    UntouchedFlag.objects.create(account=account)
    StaleFlag.objects.create(opportunity=opportunity, last_activity_at=timezone.now() - timedelta(days=30))
    JobRun.objects.create(job="compute_analytics")
    JobAttempt.objects.create(job="flag_stale", status="failed", finished_at=timezone.now(), error="ValueError: x")
    DigestDelivery.objects.create(user=rep, week_start=date(2026, 3, 2))
    ReminderDelivery.objects.create(user=rep, day=date(2026, 3, 2))
    Group.objects.create(name="Back office")
    issue_token(user=rep)
    ImportJob.objects.create(kind="accounts", file_name="accounts.csv", content=b"external_key", uploaded_by=manager)
    ForecastSnapshot.objects.create(taken_on=date(2026, 3, 2), period_type="quarter", period_start=date(2026, 1, 1),
                                    owner_user=rep, won=Decimal(1), commit=Decimal(2), best_case=Decimal(0),
                                    pipeline=Decimal(0))  # fmt: skip
    endpoint = WebhookEndpoint.objects.create(name="CRM bus", url="https://example.com/hook", secret="s",
                                              events=["opportunity.won"], created_by=manager)  # fmt: skip
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="opportunity.won", payload={"id": 1},
                                              expires_at=timezone.now() + timedelta(hours=24))  # fmt: skip
    WebhookAttempt.objects.create(delivery=delivery, status_code=500, error="HTTP 500", duration_ms=12)
    ExportRecord.objects.create(user=manager, what="opportunities", format="csv", row_count=3)
    RolledMonth.objects.create(kind="closed", month=date(2026, 2, 1), starts_at=timezone.now(), ends_at=timezone.now())
    ClosedMonthSum.objects.create(month=date(2026, 2, 1), dimension="reason", loss_reason="price", won=0, lost=1,
                                  won_amount=Decimal(0), lost_amount=Decimal(3))  # fmt: skip
    VisitMonthSum.objects.create(month=date(2026, 2, 1), owner_id=rep.pk, done=4)
    TerritorySnapshot.objects.create(dimension="org", on=date(2026, 3, 2), sums=[[["standalone"], {"accounts": "1"}]])


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_changelist_lists_rows_for_a_superuser(admin_client, one_of_each, model, model_admin):
    response = admin_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == model._default_manager.count()


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_add_page_opens_unless_the_rows_are_written_by_the_system(admin_client, rf, admin_user, model, model_admin):
    request = rf.get("/")
    request.user = admin_user

    response = admin_client.get(admin_url(model, "add"))

    assert response.status_code == (200 if model_admin.has_add_permission(request) else 403)


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_change_page_opens_for_a_superuser(admin_client, one_of_each, model, model_admin):
    row = model._default_manager.order_by("pk").last()

    response = admin_client.get(admin_url(model, "change", row.pk))

    assert response.status_code == 200


def test_history_and_snapshots_are_read_only_in_the_admin(rf, admin_user):
    request = rf.get("/")
    request.user = admin_user
    read_only = sorted(
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not model_admin.has_add_permission(request) and not model_admin.has_change_permission(request)
    )

    assert read_only == [
        "accounts.AccountChange",
        "analytics.AccountValue",
        "analytics.ClosedMonthSum",
        "analytics.DigestDelivery",
        "analytics.ForecastSnapshot",
        "analytics.JobAttempt",
        "analytics.JobRun",
        "analytics.MatrixRun",
        "analytics.ReminderDelivery",
        "analytics.RolledMonth",
        "analytics.StaleFlag",
        "analytics.TerritorySnapshot",
        "analytics.UntouchedFlag",
        "analytics.VisitMonthSum",
        "core.ExportRecord",
        "pipeline.ForecastCall",
        "pipeline.ForecastCallChange",
        "pipeline.ImportJob",
        "pipeline.OpportunityChange",
        "pipeline.Reassignment",
        "pipeline.StageChange",
        "pipeline.TargetChange",
        "pipeline.WebhookAttempt",
        "pipeline.WebhookDelivery",
        "pipeline.WebhookEndpoint",
    ]


def create_accounts(count: int) -> None:
    AccountFactory.create_batch(count)


def create_opportunities(count: int) -> None:
    OpportunityFactory.create_batch(count)


def create_visits(count: int) -> None:
    for _ in range(count):
        VisitFactory(opportunity=OpportunityFactory())


@pytest.mark.parametrize(
    ("model", "create_rows"),
    [(Account, create_accounts), (Opportunity, create_opportunities), (Visit, create_visits)],
    ids=["Account", "Opportunity", "Visit"],
)
def test_changelist_runs_the_same_number_of_queries_for_3_and_30_rows(admin_client, db, model, create_rows):
    def changelist_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200
        return len(queries)

    create_rows(3)
    with_3 = changelist_queries()
    create_rows(27)
    with_30 = changelist_queries()

    assert model._default_manager.count() == 30
    assert with_30 == with_3


def test_account_search_finds_by_name_and_by_owner_username(admin_client, db):
    alice = UserFactory(username="alice")
    acme = AccountFactory(name="Acme 精密机械", owner=alice)
    AccountFactory(name="Globex 贸易")

    by_name = admin_client.get(admin_url(Account, "changelist"), {"q": "精密"})
    by_owner = admin_client.get(admin_url(Account, "changelist"), {"q": "alice"})

    assert list(by_name.context["cl"].result_list) == [acme]
    assert list(by_owner.context["cl"].result_list) == [acme]


def test_account_autocomplete_answers_a_search(admin_client, db):
    acme = AccountFactory(name="Acme 精密机械")
    AccountFactory(name="Globex 贸易")

    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "Acme", "app_label": "pipeline", "model_name": "opportunity", "field_name": "account"},
    )

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(acme.pk)]


def test_deleting_an_account_is_refused_because_accounts_are_archived(admin_client, db):
    opportunity = OpportunityFactory()
    account = opportunity.account

    response = admin_client.post(admin_url(Account, "delete", account.pk), {"post": "yes"})

    assert response.status_code == 403
    assert Account.objects.filter(pk=account.pk).exists()
    assert Opportunity.objects.filter(pk=opportunity.pk).exists()


def test_saving_an_opportunity_in_the_admin_bumps_its_version(rf, admin_user, db):
    opportunity = OpportunityFactory(name="Old name")
    request = rf.post("/")
    request.user = admin_user
    opportunity.name = "New name"

    OpportunityAdmin(Opportunity, admin.site).save_model(request, opportunity, form=None, change=True)

    opportunity.refresh_from_db()
    assert (opportunity.name, opportunity.version) == ("New name", 2)


def test_untouched_loss_and_version_are_read_only_on_the_opportunity_page(admin_client, db):
    opportunity = OpportunityFactory()

    response = admin_client.get(admin_url(Opportunity, "change", opportunity.pk))

    form_fields = set(response.context["adminform"].form.fields)
    assert {"is_untouched_loss", "version", "stage", "status", "owner", "closed_at"}.isdisjoint(form_fields)
    assert {"name", "amount", "expected_close_date"} <= form_fields


def test_opportunities_cannot_be_added_in_the_admin_because_history_would_be_missing(admin_client, db):
    response = admin_client.get(admin_url(Opportunity, "add"))

    assert response.status_code == 403


def test_every_model_of_our_apps_has_an_admin():
    ours = {
        model._meta.label
        for app_label in ("accounts", "pipeline", "analytics")
        for model in apps.get_app_config(app_label).get_models()
    }

    assert sorted(ours - {model._meta.label for model in admin.site._registry}) == []


def test_the_region_order_is_edited_in_the_region_list(admin_client, db):
    east, north = RegionFactory(code="EAST", sort_order=10), RegionFactory(code="NORTH", sort_order=20)
    url = reverse("admin:accounts_region_changelist")
    form = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "2",
        "form-0-id": str(north.pk),
        "form-0-sort_order": "5",
        "form-1-id": str(east.pk),
        "form-1-sort_order": "10",
        "_save": "Save",
    }

    response = admin_client.post(url, form)

    assert response.status_code == 302
    north.refresh_from_db()
    assert north.sort_order == 5
    assert list(Region.objects.values_list("code", flat=True)) == ["NORTH", "EAST"]  # the company's order


def test_a_region_sort_order_below_zero_is_refused_in_the_admin(admin_client, db):
    region = RegionFactory(code="EAST", sort_order=10)
    url = reverse("admin:accounts_region_change", args=[region.pk])
    data = {"code": "EAST", "name": "华东", "name_en": "", "level": "1", "parent": "", "sort_order": "-1"}

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "sort_order" in response.context["adminform"].form.errors
    region.refresh_from_db()
    assert region.sort_order == 10
