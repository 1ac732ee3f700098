"""Search (issue 12): by Chinese characters and by pinyin, best first, only what the viewer may see; the API answers
{"results": [...]} and refuses a blank or too long query with a field error."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pipeline.selectors.search import SEARCH_LIMIT, search
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

BOYUAN = "宁波博远连锁超市有限公司"


def _titles(results) -> list[tuple[str, str]]:
    return [(r.type, r.title) for r in results]


@pytest.fixture
def boyuan(org):
    account = AccountFactory(name=BOYUAN, owner=org.rep_a1)
    return account


@pytest.mark.parametrize("query", ["博远", "nbby", "boyuan", "ningbo", "NingBo", "ning bo", "宁波博远连锁超市有限公司"])
def test_finds_an_account_by_chinese_text_and_by_pinyin_in_full_or_initials(org, boyuan, query):
    AccountFactory(name="杭州西湖贸易公司", owner=org.rep_a1)

    assert _titles(search(viewer=org.rep_a1, query=query)) == [("account", BOYUAN)]


def test_finds_contacts_by_name_and_pinyin_and_opportunities_by_name(org, boyuan):
    contact = ContactFactory(account=boyuan, name="张伟", title="采购经理")
    opportunity = OpportunityFactory(account=boyuan, owner=org.rep_a1, name="博远门店打印机更新")

    by_pinyin = search(viewer=org.rep_a1, query="zhangwei")
    by_initials = search(viewer=org.rep_a1, query="zw")
    by_name = search(viewer=org.rep_a1, query="打印机")

    assert [(r.type, r.id, r.title, r.subtitle, r.url) for r in by_pinyin] == [
        ("contact", contact.pk, "张伟", f"采购经理 · {BOYUAN}", f"/accounts/{boyuan.pk}/#contact-{contact.pk}")
    ]
    assert _titles(by_initials) == [("contact", "张伟")]
    stage = opportunity.stage.name
    assert [(r.type, r.title, r.subtitle, r.url) for r in by_name] == [
        ("opportunity", "博远门店打印机更新", f"{BOYUAN} · {stage}", f"/opportunities/{opportunity.pk}/")
    ]


def test_exact_names_come_first_then_prefixes_then_substrings(org):
    owner = org.rep_a1
    for name in ["东方博远", "博远科技发展有限公司", "博远", "博远商贸"]:
        AccountFactory(name=name, owner=owner)
    OpportunityFactory(account=AccountFactory(name="其他", owner=owner), owner=owner, name="博远二期")

    results = search(viewer=owner, query="博远")

    assert _titles(results) == [
        ("account", "博远"),  # exact
        ("account", "博远商贸"),  # prefix, shorter first
        ("account", "博远科技发展有限公司"),
        ("opportunity", "博远二期"),  # prefix, after accounts
        ("account", "东方博远"),  # substring
    ]
    assert [r.rank for r in results] == [0, 1, 1, 1, 2]


def test_answers_at_most_twenty_results(org):
    owner = org.rep_a1
    for i in range(SEARCH_LIMIT + 5):
        AccountFactory(name=f"博远{i:02d}", owner=owner)
        ContactFactory(account=AccountFactory(name=f"其他{i}", owner=owner), name=f"博远联系人{i}")

    results = search(viewer=owner, query="博远")

    assert len(results) == SEARCH_LIMIT
    assert {r.type for r in results} == {"account"}  # same rank: accounts first


def test_archived_accounts_their_contacts_and_opportunities_and_archived_contacts_are_not_found(org):
    owner = org.rep_a1
    archived = AccountFactory(name="博远旧店", owner=owner, archived_at=timezone.now())
    ContactFactory(account=archived, name="博远甲")
    OpportunityFactory(account=archived, owner=owner, name="博远旧单")
    ContactFactory(account=AccountFactory(name="现店", owner=owner), name="博远乙", archived_at=timezone.now())

    assert search(viewer=owner, query="博远") == []


@pytest.fixture
def spread(org):
    """One account named 博远 with a contact and an opportunity per rep, plus one seen through an opportunity."""
    rows = {}
    for rep in (org.rep_a1, org.rep_a2, org.rep_b1, org.manager_a):
        account = AccountFactory(name=f"博远-{rep.username}", owner=rep)
        ContactFactory(account=account, name=f"博远人-{rep.username}")
        OpportunityFactory(account=account, owner=rep, name=f"博远单-{rep.username}")
        rows[rep.username] = account
    # rep_a1 sells at rep_b1's account: that account (read-only) and its contacts are visible to rep_a1's side
    OpportunityFactory(account=rows["rep_b1"], owner=org.rep_a1, name="博远合作单")
    return rows


@pytest.mark.parametrize(
    ("role", "account_owners", "opportunity_owners"),
    [
        ("rep_a1", {"rep_a1", "rep_b1"}, {"rep_a1", "合作"}),
        ("rep_b1", {"rep_b1"}, {"rep_b1"}),
        ("manager_a", {"manager_a", "rep_a1", "rep_a2", "rep_b1"}, {"manager_a", "rep_a1", "rep_a2", "合作"}),
        ("manager_b", {"rep_b1"}, {"rep_b1"}),
        ("director", {"manager_a", "rep_a1", "rep_a2", "rep_b1"}, {"manager_a", "rep_a1", "rep_a2", "rep_b1", "合作"}),
    ],
)
def test_each_role_finds_only_what_it_may_see(org, spread, role, account_owners, opportunity_owners):
    viewer = getattr(org, role)

    results = search(viewer=viewer, query="博远", limit=100)

    accounts = {r.title.removeprefix("博远-") for r in results if r.type == "account"}
    contacts = {r.title.removeprefix("博远人-") for r in results if r.type == "contact"}
    opportunities = {
        r.title.removeprefix("博远单-").removeprefix("博远").removesuffix("单")
        for r in results
        if r.type == "opportunity"
    }
    assert accounts == account_owners
    assert contacts == account_owners  # contacts are visible with their account
    assert opportunities == opportunity_owners


def test_a_search_runs_one_query_per_type_whatever_the_number_of_results(org, django_assert_num_queries):
    owner = org.rep_a1
    for i in range(5):
        account = AccountFactory(name=f"博远{i}", owner=owner)
        ContactFactory(account=account, name=f"博远人{i}")
        OpportunityFactory(account=account, owner=owner, name=f"博远单{i}")

    with django_assert_num_queries(3):
        results = search(viewer=owner, query="boyuan")  # contacts too: their pinyin starts with boyuan
    with django_assert_num_queries(3):
        search(viewer=owner, query="博远")

    assert len(results) == 10


# The API ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def api(org):
    org.rep_a1.language = "en"  # the API answers in the user's language
    org.rep_a1.save(update_fields=["language"])
    client = APIClient()
    client.force_authenticate(org.rep_a1)
    return client


def test_the_api_answers_results_best_first(api, org, boyuan):
    contact = ContactFactory(account=boyuan, name="博远老板")  # starts with the query: before the account

    response = api.get("/api/v1/search/", {"q": "博远"})

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "type": "contact",
                "id": contact.pk,
                "title": "博远老板",
                "subtitle": BOYUAN,
                "url": f"/accounts/{boyuan.pk}/#contact-{contact.pk}",
            },
            {
                "type": "account",
                "id": boyuan.pk,
                "title": BOYUAN,
                "subtitle": f"{boyuan.region}",
                "url": f"/accounts/{boyuan.pk}/",
            },
        ]
    }


def test_the_api_finds_by_pinyin_initials_in_a_fixed_number_of_queries(api, org, boyuan, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # the three searches, and the session's user at most
        response = api.get("/api/v1/search/", {"q": "nbby"})
    assert [r["title"] for r in response.json()["results"]] == [BOYUAN]


def test_the_api_never_returns_what_the_user_may_not_see(api, org):
    AccountFactory(name="博远别人的", owner=org.rep_b1)

    response = api.get("/api/v1/search/", {"q": "博远"})

    assert response.status_code == 200
    assert response.json() == {"results": []}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "This field is required."),
        ({"q": ""}, "This field may not be blank."),
        ({"q": "   "}, "This field may not be blank."),
        ({"q": "博\x00"}, "Null characters are not allowed."),
        ({"q": "博" * 101}, "Ensure this field has no more than 100 characters."),
    ],
)
def test_the_api_refuses_a_blank_or_too_long_query_with_a_field_error(api, params, message):
    response = api.get("/api/v1/search/", params)

    assert response.status_code == 400
    body = response.json()
    assert body["q"] == [message]
    assert body["detail"] == message


def test_the_api_asks_for_credentials():
    assert APIClient().get("/api/v1/search/", {"q": "博远"}).status_code == 401
