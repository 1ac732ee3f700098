"""Every path that writes an account's or a contact's name keeps its pinyin (full and initials) in step (issue 12)."""

import importlib

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.models import Account, Contact
from accounts.names import pinyin_of
from accounts.services import create_account, create_contact, update_account, update_contact
from pipeline.importing.accounts import import_accounts
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("宁波博远连锁超市有限公司", ("ningboboyuanliansuochaoshiyouxiangongsi", "nbbylscsyxgs")),
        ("重庆银行", ("chongqingyinhang", "cqyh")),  # a phrase, not 重 = zhong
        ("张三", ("zhangsan", "zs")),
        ("ABC科技 (上海) No.3", ("abckejishanghaino3", "akjshn3")),
        ("", ("", "")),
    ],
)
def test_pinyin_is_lowercase_letters_and_digits_with_initials_per_syllable_or_word(name, expected):
    assert pinyin_of(name) == expected


def _pinyin(model, pk: int) -> tuple[str, str]:
    return model.objects.values_list("name_pinyin", "name_initials").get(pk=pk)


def test_the_services_set_the_pinyin_on_create_and_on_rename(org):
    account = create_account(created_by=org.rep_a1, name="宁波博远连锁超市有限公司")
    contact = create_contact(created_by=org.rep_a1, account=account, name="张三")
    assert _pinyin(Account, account.pk) == ("ningboboyuanliansuochaoshiyouxiangongsi", "nbbylscsyxgs")
    assert _pinyin(Contact, contact.pk) == ("zhangsan", "zs")

    update_account(account=account, changed_by=org.rep_a1, name="重庆银行")  # saves with update_fields
    update_contact(contact=contact, changed_by=org.rep_a1, name="李四")

    assert _pinyin(Account, account.pk) == ("chongqingyinhang", "cqyh")
    assert _pinyin(Contact, contact.pk) == ("lisi", "ls")


def test_a_save_of_other_fields_keeps_the_pinyin(org):
    account = AccountFactory(name="张三超市", owner=org.rep_a1)
    account.notes = "x"
    account.save(update_fields=["notes"])
    assert _pinyin(Account, account.pk) == ("zhangsanchaoshi", "zscs")


def test_the_importer_sets_the_pinyin_of_new_and_renamed_accounts(org):
    existing = AccountFactory(name="旧名字", owner=org.rep_a1, external_key="K1")
    rows = [
        {"external_key": "K1", "name": "重庆银行", "owner": "rep_a1"},
        {"external_key": "K2", "name": "宁波博远", "owner": "rep_a1"},
    ]

    import_accounts(rows=rows, dry_run=False, default_owner=None, imported_by=org.director)

    assert _pinyin(Account, existing.pk) == ("chongqingyinhang", "cqyh")
    assert Account.objects.values_list("name_pinyin", "name_initials").get(external_key="K2") == (
        "ningboboyuan",
        "nbby",
    )


def test_seed_demo_sets_the_pinyin_of_every_account_and_contact():
    call_command("seed_demo", "--scale", "0.05", "--seed", "3", "--today", "2025-06-18", verbosity=0)

    for model in (Account, Contact):
        rows = list(model.objects.values_list("name", "name_pinyin", "name_initials"))
        assert rows
        assert [(name, *pinyin_of(name)) for name, _, _ in rows] == rows


def test_the_migration_fills_the_pinyin_of_existing_rows():
    account, contact = AccountFactory(name="宁波博远"), ContactFactory(name="张三")
    Account.objects.update(name_pinyin="", name_initials="")
    Contact.objects.update(name_pinyin="", name_initials="")
    migration = importlib.import_module("accounts.migrations.0008_name_pinyin_and_search_indexes")

    migration.fill_pinyin(apps, None)

    assert _pinyin(Account, account.pk) == ("ningboboyuan", "nbby")
    assert _pinyin(Contact, contact.pk) == ("zhangsan", "zs")
