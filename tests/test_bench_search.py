"""`make bench` measures the search (issue 12): by characters from inside an account's name and by its pinyin."""

import pytest
from django.test import Client

from scripts.bench import LIST_PAGES, page_urls
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_the_bench_measures_the_search_by_characters_and_by_pinyin_and_both_find_the_account(org):
    account = AccountFactory(name="宁波博远连锁超市有限公司", owner=org.rep_a1)
    client = Client()
    client.force_login(org.rep_a1)

    urls = page_urls(org.rep_a1, None)

    assert {"API search", "API search pinyin"} <= {page for page, _ in LIST_PAGES}
    assert urls["API search"] == "/api/v1/search/?q=%E5%8D%9A%E8%BF%9C%E8%BF%9E%E9%94%81"  # 博远连锁
    assert urls["API search pinyin"] == "/api/v1/search/?q=ningbobo"
    for page in ("API search", "API search pinyin"):
        response = client.get(urls[page])
        assert response.status_code == 200
        assert [r["id"] for r in response.json()["results"]] == [account.pk]
