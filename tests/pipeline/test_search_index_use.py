"""Search reads the trigram indexes on PostgreSQL (issue 12): over a company of realistic size, after ANALYZE, the
plans of the three searches scan the name and pinyin indexes, never the whole table."""

from __future__ import annotations

import itertools
import re

import pytest
from django.db import connection

from accounts.models import Account, Contact, User
from accounts.names import with_pinyin
from pipeline.models import Opportunity
from pipeline.selectors.search import matching_accounts, matching_contacts, matching_opportunities
from tests.e2e.helpers import install_default_pipeline

pytestmark = [
    # Committed and vacuumed, as autovacuum leaves a production table (see tests/pipeline/test_index_use.py).
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]

CITIES = ["宁波", "杭州", "上海", "苏州", "南京", "温州", "合肥", "无锡", "常州", "绍兴"]
WORDS = ["华信", "东方", "金桥", "恒达", "新元", "天合", "瑞丰", "宏图", "安泰", "永盛", "鼎力", "嘉禾"]
KINDS = ["连锁超市", "制造", "贸易", "科技", "物流", "医药", "印刷", "电子"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "军", "杰", "强", "丽"]


COPIES = 40


def _multiply(model, *, copies: int) -> None:
    """Adds `copies` copies of every row of `model`'s table, each with its copy number after its name (and pinyin):
    distinct names that share their trigrams, as a real company's do. Every column is copied, whatever it is."""
    table, quote = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    named = {"name", "name_pinyin", "name_initials"}

    def value(field) -> str:
        column = quote(field.column)
        return f"{column} || copy" if field.column in named else column

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "
            f"SELECT {', '.join(value(f) for f in fields)} FROM {table}, generate_series(1, %s) AS copy",
            [copies],
        )


@pytest.fixture
def company():
    """About 40,000 accounts, contacts and opportunities with varied names, some of them 宁波博远连锁超市."""
    director = User.objects.create(username="director", role=User.Role.DIRECTOR)
    reps = User.objects.bulk_create([User(username=f"rep{i}", role=User.Role.REP) for i in range(50)])
    names = [f"{c}{w}{k}有限公司" for c, w, k in itertools.product(CITIES, WORDS, KINDS)]
    names.append("宁波博远连锁超市有限公司")
    accounts = Account.objects.bulk_create(
        with_pinyin(Account(name=name, owner=reps[i % len(reps)]) for i, name in enumerate(names))
    )
    people = [f"{s}{g}{h}" for s, g, h in itertools.product(SURNAMES, GIVEN, GIVEN)]
    Contact.objects.bulk_create(
        with_pinyin(Contact(account=a, name=people[(i * 7) % len(people)]) for i, a in enumerate(accounts))
    )
    pipeline = install_default_pipeline()  # safe to repeat; an earlier transactional test may have emptied it
    stage = pipeline.stages.order_by("order").first()
    Opportunity.objects.bulk_create(
        Opportunity(
            pipeline=pipeline,
            stage=stage,
            furthest_stage=stage,
            account=a,
            owner=a.owner,
            name=f"{a.name[:6]}项目",
        )
        for a in accounts
    )
    for model in (Account, Contact, Opportunity):
        _multiply(model, copies=COPIES)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return director


def _indexes_scanned(plan: str) -> set[str]:
    return set(re.findall(r"Bitmap Index Scan on (\w+)", plan))


def test_searches_read_the_trigram_indexes_not_the_table(company):
    searches = {
        "accounts by characters": matching_accounts(viewer=company, query="博远连锁"),
        "accounts by pinyin": matching_accounts(viewer=company, query="boyuan"),
        "accounts by initials": matching_accounts(viewer=company, query="nbbyl"),
        "contacts by characters": matching_contacts(viewer=company, query="王伟伟"),
        "contacts by pinyin": matching_contacts(viewer=company, query="wangweiwei"),
        "opportunities by characters": matching_opportunities(viewer=company, query="博远连锁"),
    }

    plans = {name: rows.explain() for name, rows in searches.items()}

    assert {name: _indexes_scanned(plan) for name, plan in plans.items()} == {
        "accounts by characters": {"account_name_trgm_idx"},
        "accounts by pinyin": {"account_name_trgm_idx", "account_pinyin_trgm_idx"},
        "accounts by initials": {"account_name_trgm_idx", "account_pinyin_trgm_idx"},
        "contacts by characters": {"contact_name_trgm_idx"},
        "contacts by pinyin": {"contact_name_trgm_idx", "contact_pinyin_trgm_idx"},
        "opportunities by characters": {"opp_name_trgm_idx"},
    }
    tables = ("accounts_account", "accounts_contact", "pipeline_opportunity")
    assert [name for name, plan in plans.items() if any(f"Seq Scan on {t}" in plan for t in tables)] == []
    assert {name: len(rows) for name, rows in searches.items()} == {
        "accounts by characters": 20,  # 41 match, the first 20
        "accounts by pinyin": 20,
        "accounts by initials": 20,
        "contacts by characters": 20,
        "contacts by pinyin": 20,
        "opportunities by characters": 20,
    }
