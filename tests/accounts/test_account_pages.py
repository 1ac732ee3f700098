"""The account page (profile, contacts with the decks' advice, installed base ours vs competitors, opportunities,
visit timeline), account and contact forms with their owner rules, and visibility for every page and role."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.facts import customer_type_for
from accounts.models import Account, Contact
from accounts.services import create_account, update_account
from analytics.models import AccountValue, MatrixRun
from core.errors import NotAllowed, ValidationFailed
from pipeline.models import Reassignment
from pipeline.selectors.accounts import account_page
from tests.factories import (
    AccountFactory,
    CompetitorFactory,
    ContactFactory,
    IndustryFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    RegionFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 18, 15, 30, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def zh(message: str) -> str:
    """The zh-hans text of an English message as the catalogs give it; never the English."""
    with translation.override("zh-hans"):
        chinese = translation.gettext(message)
    assert chinese != message, f"no Chinese for {message!r}"
    return chinese


def _login(client, user, language="en"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    return client


# --- the installed base split ----------------------------------------------------------------------------------


def test_the_account_page_splits_the_installed_base_into_ours_and_competitors(client, org):
    account = AccountFactory(owner=org.rep_a1)
    konica, ricoh = CompetitorFactory(name="柯尼卡"), CompetitorFactory(name="理光")
    InstalledBaseFactory(account=account, is_ours=True, units=3, product="A3 彩色")
    InstalledBaseFactory(account=account, is_ours=True, units=2, product="A4 黑白")
    InstalledBaseFactory(account=account, is_ours=False, competitor=konica, units=4, product="A3 黑白")
    InstalledBaseFactory(account=account, is_ours=False, competitor=ricoh, units=1, product="生产型")
    InstalledBaseFactory(account=AccountFactory(owner=org.rep_a1), is_ours=True, units=50)  # another account's
    _login(client, org.rep_a1)

    response = client.get(reverse("accounts:detail", args=[account.pk]))

    base = response.context["page"].installed_base
    assert (base.our_units, base.competitor_units, base.total_units) == (5, 5, 10)
    assert (base.customer_type, base.our_share) == ("mixed", 0.5)
    html = response.content.decode()
    assert 'data-our-units="5" data-competitor-units="5"' in html
    assert 'data-customer-type="mixed"' in html
    assert "柯尼卡" in html and "理光" in html
    assert "width:50.0%" in html


@pytest.mark.parametrize(
    ("ours", "theirs", "customer_type"),
    [(4, 0, "ours"), (0, 3, "competitor"), (2, 7, "mixed"), (0, 0, "none")],
)
def test_the_customer_type_follows_whose_units_are_installed(org, ours, theirs, customer_type):
    account = AccountFactory(owner=org.rep_a1)
    if ours:
        InstalledBaseFactory(account=account, is_ours=True, units=ours)
    if theirs:
        InstalledBaseFactory(account=account, is_ours=False, competitor=CompetitorFactory(), units=theirs)

    page = account_page(viewer=org.rep_a1, pk=account.pk)

    assert (page.installed_base.our_units, page.installed_base.competitor_units) == (ours, theirs)
    assert (
        page.installed_base.customer_type == customer_type == customer_type_for(our_units=ours, competitor_units=theirs)
    )


# --- profile, contacts, opportunities, timeline ----------------------------------------------------------------


def test_the_account_page_shows_the_profile_with_region_path_and_branches(client, org):
    east = RegionFactory(code="E", name="华东", level=1)
    shanghai = RegionFactory(code="E-SH", name="上海", level=2, parent=east)
    pudong = RegionFactory(code="E-SH-PD", name="浦东", level=3, parent=shanghai)
    hq = AccountFactory(
        owner=org.rep_a1,
        region=pudong,
        industry=IndustryFactory(name="制造业"),
        employee_count=350,
        address="张江路 1 号",
        is_target=True,
        target_since=date(2025, 1, 6),
        is_headquarters=True,
    )
    AccountFactory(owner=org.rep_a1, parent=hq, name="苏州分公司")
    AccountFactory(owner=org.rep_b1, parent=hq, name="别的团队的分公司")
    _login(client, org.rep_a1)

    response = client.get(reverse("accounts:detail", args=[hq.pk]))

    html = response.content.decode()
    assert [r.name for r in response.context["page"].region_path] == ["华东", "上海", "浦东"]
    assert "华东 › 上海 › 浦东" in html
    assert "300-999" in html and "制造业" in html and "张江路 1 号" in html and "2025-01-06" in html
    assert [b.name for b in response.context["page"].branches] == ["苏州分公司"]
    assert "别的团队的分公司" not in html


def test_contacts_show_their_buying_role_and_the_decks_advice_for_their_style(client, org):
    account = AccountFactory(owner=org.rep_a1)
    ContactFactory(account=account, name="赵总", buying_role="decision_maker", communication_style="dominant")
    ContactFactory(account=account, name="钱工", buying_role="user", communication_style="analytical")
    ContactFactory(account=account, name="孙经理", buying_role="influencer", communication_style="social")
    ContactFactory(account=account, name="李秘书", buying_role="gatekeeper", communication_style="")
    _login(client, org.rep_a1, language="en")

    response = client.get(reverse("accounts:detail", args=[account.pk]))

    html = response.content.decode()
    advice = {card.contact.name: card.advice and card.advice.tip for card in response.context["contact_cards"]}
    assert advice == {
        "孙经理": "Break the ice and lighten the atmosphere.",
        "李秘书": None,
        "赵总": "Avoid their edge, draw them in, expose the weak point, win with courtesy, close in one go.",
        "钱工": "Bring facts and details; when they drift off track, guide them back.",
    }
    for text in ("Decision maker", "Dominant", "Analytical", "Social", "Gatekeeper", "Break the ice"):
        assert text in html


def test_the_account_page_lists_the_viewers_opportunities_and_every_visit_at_their_account(client, org):
    account = AccountFactory(owner=org.rep_a1)
    OpportunityFactory(account=account, owner=org.rep_a1, name="我的商机")
    OpportunityFactory(account=account, owner=org.rep_b1, name="别队的商机")
    VisitFactory(account=account, owner=org.rep_a1, status="done", done_at=NOW - timedelta(days=2), summary="我的拜访")
    VisitFactory(account=account, owner=org.rep_b1, status="done", done_at=NOW - timedelta(days=1), summary="别队拜访")
    VisitFactory(account=account, owner=org.rep_a1, planned_at=NOW + timedelta(days=1), purpose="计划中的拜访")
    _login(client, org.rep_a1)

    response = client.get(reverse("accounts:detail", args=[account.pk]))

    page = response.context["page"]
    assert [o.name for o in page.opportunities] == ["我的商机"]
    assert [v.summary or v.purpose for v in page.visits] == ["计划中的拜访", "别队拜访", "我的拜访"]
    client.force_login(org.director)
    director_page = client.get(reverse("accounts:detail", args=[account.pk])).context["page"]
    assert {o.name for o in director_page.opportunities} == {"我的商机", "别队的商机"}
    assert [v.summary or v.purpose for v in director_page.visits] == ["计划中的拜访", "别队拜访", "我的拜访"]


def test_the_account_page_links_to_logging_a_visit_there_in_one_tap(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1)

    html = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()

    assert f'href="{reverse("pipeline:visit_log")}?account={account.pk}"' in html


def test_the_account_page_runs_the_same_number_of_queries_for_ten_times_the_data(
    client, org, django_assert_num_queries
):
    account = AccountFactory(owner=org.rep_a1, parent=AccountFactory(owner=org.rep_a1))

    years = iter(range(2000, 2100))

    def grow(n: int) -> None:
        for _ in range(n):
            year = next(years)  # the account's matrix values of one more year (the page's history, SPEC §3)
            AccountValue.objects.create(
                run=MatrixRun.objects.create(year=year), account=account, year=year, cv=1, pv=2, quadrant="core"
            )
            contact = ContactFactory(account=account, communication_style="dominant")
            InstalledBaseFactory(account=account, is_ours=False, competitor=CompetitorFactory(), units=2)
            opportunity = OpportunityFactory(account=account, owner=org.rep_a1)
            VisitFactory(account=account, contact=contact, opportunity=opportunity, planned_at=NOW + timedelta(days=1))
            AccountFactory(owner=org.rep_a1, parent=account)

    client.force_login(org.manager_a)
    url = reverse("accounts:detail", args=[account.pk])
    grow(2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(18)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)

    page = response.context["page"]
    assert (len(page.contacts), len(page.installed_base.rows), len(page.opportunities), len(page.visits)) == (
        20,
        20,
        20,
        20,
    )
    assert len(page.branches) == 20
    assert len(response.context["value_years"]) == 20


# --- account forms and their owner rules -----------------------------------------------------------------------


def test_a_rep_creates_an_account_for_themself(client, org):
    _login(client, org.rep_a1)
    region = RegionFactory()

    response = client.post(
        reverse("accounts:create"),
        {"name": "  新客户有限公司 ", "employee_count": "80", "region": region.pk, "is_target": "on"},
    )

    account = Account.objects.get()
    assert response.url == account.get_absolute_url()
    assert (account.name, account.owner, account.employee_count, account.region) == (
        "新客户有限公司",
        org.rep_a1,
        80,
        region,
    )
    assert (account.is_target, account.target_since) == (True, date(2025, 6, 18))


def test_a_rep_cannot_create_an_account_for_someone_else_and_nothing_is_written(org):
    with pytest.raises(NotAllowed) as refused:
        create_account(created_by=org.rep_a1, name="别人的客户", owner=org.rep_a2)

    assert refused.value.field == "owner"
    assert Account.objects.count() == 0


def test_a_manager_creates_accounts_for_the_team_but_not_for_another_team(client, org):
    _login(client, org.manager_a)

    client.post(reverse("accounts:create"), {"name": "团队客户", "owner": org.rep_a2.pk})
    response = client.post(reverse("accounts:create"), {"name": "外队客户", "owner": org.rep_b1.pk})

    assert list(Account.objects.values_list("name", "owner__username")) == [("团队客户", "rep_a2")]
    assert list(response.context["form"].errors) == ["owner"]


def test_a_director_creates_an_account_for_any_rep(org):
    account = create_account(created_by=org.director, name="总部客户", owner=org.rep_b1)

    assert account.owner == org.rep_b1


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_account_without_a_name_is_refused_in_the_users_language(client, org, language):
    _login(client, org.rep_a1, language=language)

    response = client.post(reverse("accounts:create"), {"name": "", "employee_count": "-3"})

    if language == "en":
        required, minimum = "This field is required.", "Ensure this value is greater than or equal to 0."
    else:
        required = zh("This field is required.")
        with translation.override("zh-hans"):
            minimum = translation.gettext("Ensure this value is greater than or equal to %(limit_value)s.") % {
                "limit_value": 0
            }
        assert "必填" in required and "0" in minimum
    assert response.context["form"].errors == {"name": [required], "employee_count": [minimum]}
    assert required in response.content.decode()
    assert Account.objects.count() == 0


def test_editing_an_account_keeps_target_since_and_clears_it_when_no_longer_a_target(org):
    account = AccountFactory(owner=org.rep_a1, is_target=True, target_since=date(2024, 3, 1))

    update_account(account=account, changed_by=org.rep_a1, name="改名", is_target=True)
    assert (account.name, account.target_since) == ("改名", date(2024, 3, 1))
    update_account(account=account, changed_by=org.rep_a1, is_target=False)

    account.refresh_from_db()
    assert (account.is_target, account.target_since) == (False, None)


def test_an_account_cannot_become_a_branch_of_its_own_branch(org):
    hq = AccountFactory(owner=org.rep_a1)
    branch = AccountFactory(owner=org.rep_a1, parent=hq)

    with pytest.raises(ValidationFailed) as refused:
        update_account(account=hq, changed_by=org.rep_a1, parent=branch)

    assert refused.value.field == "parent"
    hq.refresh_from_db()
    assert hq.parent is None


def test_naming_a_headquarters_marks_it_as_one(org):
    hq = AccountFactory(owner=org.rep_a1)

    create_account(created_by=org.rep_a1, name="分公司", parent=hq)

    hq.refresh_from_db()
    assert hq.is_headquarters is True


def test_a_manager_gives_an_account_to_another_rep_of_the_team_from_the_edit_form(client, org):
    account = AccountFactory(owner=org.rep_a1, name="老客户")
    _login(client, org.manager_a)

    response = client.post(reverse("accounts:edit", args=[account.pk]), {"name": "老客户", "owner": org.rep_a2.pk})

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.owner == org.rep_a2
    assert Reassignment.objects.filter(account=account, from_owner=org.rep_a1, to_owner=org.rep_a2).count() == 1


def test_a_rep_edits_their_account_without_an_owner_field(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1)

    page = client.get(reverse("accounts:edit", args=[account.pk]))
    client.post(reverse("accounts:edit", args=[account.pk]), {"name": "新名字", "owner": org.rep_a2.pk})

    assert "owner" not in page.context["form"].fields
    account.refresh_from_db()
    assert (account.name, account.owner) == ("新名字", org.rep_a1)


# --- contacts on the account page ------------------------------------------------------------------------------


def test_adding_a_contact_from_the_account_page_answers_with_the_contacts_section(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1)

    response = client.post(
        reverse("accounts:contact_create", args=[account.pk]),
        {"name": "周主任", "title": "行政主任", "buying_role": "influencer", "communication_style": "social"},
        headers={"HX-Request": "true"},
    )

    contact = Contact.objects.get()
    assert (contact.account, contact.name, contact.communication_style) == (account, "周主任", "social")
    assert response.headers["HX-Retarget"] == "#contacts"
    assert 'id="contacts"' in response.content.decode() and "周主任" in response.content.decode()


def test_editing_a_contact_changes_it_and_never_its_account(client, org):
    account = AccountFactory(owner=org.rep_a1)
    contact = ContactFactory(account=account, name="吴工")
    _login(client, org.rep_a1)

    client.post(
        reverse("accounts:contact_edit", args=[account.pk, contact.pk]),
        {"name": "吴工程师", "email": "wu@example.com", "account": AccountFactory(owner=org.rep_a1).pk},
    )

    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.account) == ("吴工程师", "wu@example.com", account)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_contact_with_a_bad_email_is_refused_in_the_users_language(client, org, language):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1, language=language)

    response = client.post(reverse("accounts:contact_create", args=[account.pk]), {"name": "郑", "email": "not-mail"})

    expected = "Enter a valid email address." if language == "en" else zh("Enter a valid email address.")
    assert response.context["form"].errors == {"email": [expected]}
    assert Contact.objects.count() == 0


# --- visibility: every account page, every role ---------------------------------------------------------------

ROLES_SEEING_REP_A1 = {"rep_a1": True, "rep_a2": False, "manager_a": True, "manager_b": False, "director": True}


@pytest.fixture
def rep_a1_account(org):
    account = AccountFactory(owner=org.rep_a1)
    ContactFactory(account=account)
    return account


def _account_pages(account):
    contact = account.contacts.get()
    return {
        "detail": reverse("accounts:detail", args=[account.pk]),
        "edit": reverse("accounts:edit", args=[account.pk]),
        "contact_create": reverse("accounts:contact_create", args=[account.pk]),
        "contact_edit": reverse("accounts:contact_edit", args=[account.pk, contact.pk]),
    }


@pytest.mark.parametrize("page", ["detail", "edit", "contact_create", "contact_edit"])
@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("role", ROLES_SEEING_REP_A1)
def test_account_pages_answer_404_to_whoever_cannot_see_the_account(client, org, rep_a1_account, page, htmx, role):
    client.force_login(getattr(org, role))

    response = client.get(_account_pages(rep_a1_account)[page], headers={"HX-Request": "true"} if htmx else {})

    assert response.status_code == (200 if ROLES_SEEING_REP_A1[role] else 404)


@pytest.mark.parametrize("role", ROLES_SEEING_REP_A1)
def test_changing_an_account_or_its_contacts_is_404_and_writes_nothing_for_whoever_cannot_see_it(
    client, org, rep_a1_account, role
):
    client.force_login(getattr(org, role))
    pages = _account_pages(rep_a1_account)

    statuses = [
        client.post(pages["edit"], {"name": "改了", "owner": org.rep_a1.pk}).status_code,
        client.post(pages["contact_create"], {"name": "新人"}).status_code,
        client.post(pages["contact_edit"], {"name": "改了"}).status_code,
    ]

    if ROLES_SEEING_REP_A1[role]:
        assert statuses == [302, 302, 302]
    else:
        assert statuses == [404, 404, 404]
        rep_a1_account.refresh_from_db()
        assert rep_a1_account.name != "改了"
        assert list(Contact.objects.values_list("name", flat=True)) != ["改了"]
        assert Contact.objects.count() == 1


def test_a_contact_cannot_be_reached_through_another_accounts_url(client, org, rep_a1_account):
    other = AccountFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.get(reverse("accounts:contact_edit", args=[other.pk, rep_a1_account.contacts.get().pk]))

    assert response.status_code == 404
