"""The zh-hans catalog is complete and its compiled .mo matches it (CI has no GNU gettext to recompile)."""

import struct
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from scripts.translations_check import Entry, mismatches_with_mo, parse_po, problems_in_po

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return parse_po(PO)


def test_every_message_is_translated_and_none_is_fuzzy(entries):
    assert problems_in_po(entries) == []
    assert len(entries) > 100


def test_the_compiled_catalog_matches_the_po_file(entries):
    assert mismatches_with_mo(entries, MO) == []


def test_the_catalog_is_where_django_looks_for_zh_hans():
    assert translation.to_locale("zh-hans") == PO.parent.parent.name


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Sales rep", "销售顾问"),
        ("Sales manager", "销售经理"),
        ("Sales director", "销售总监"),
        ("Decision maker", "决策者"),
        ("Gatekeeper", "把关者"),
        ("Analytical", "分析型"),
        ("Warm contact", "缘故"),
        ("Inbound call or visit", "来电来店"),
        ("Rejected, never visited again", "被拒绝后未再拜访"),
        ("Untouched loss", "未接触性失败"),
        ("My pipeline", "我的销售漏斗"),
    ],
)
def test_spec_terms_are_translated_as_the_spec_words_them(english, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(english) == chinese
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_the_checker_reports_untranslated_fuzzy_and_stale_messages(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Done"\nmsgstr "已完成"\n\n'
        '#, fuzzy\nmsgid "Open"\nmsgstr "打开"\n\n'
        'msgctxt "menu"\nmsgid "Lost"\nmsgstr ""\n\n'
        'msgid "one item"\nmsgid_plural "%(n)s items"\nmsgstr[0] ""\n"%(n)s 条"\n\n'
        '#~ msgid "Gone"\n#~ msgstr ""\n',
        encoding="utf-8",
    )

    entries = parse_po(po)

    assert [(e.msgctxt, e.msgid, e.msgstr) for e in entries[1:]] == [
        (None, "Done", {0: "已完成"}),
        (None, "Open", {0: "打开"}),
        ("menu", "Lost", {0: ""}),
        (None, "one item", {0: "%(n)s 条"}),
    ]
    assert problems_in_po(entries) == ["fuzzy line 8: 'Open'", "untranslated line 12: [menu] 'Lost'"]
    assert mismatches_with_mo(entries, tmp_path / "django.mo") == [
        f"{tmp_path / 'django.mo'} does not exist: run compilemessages"
    ]
    _write_mo(tmp_path / "django.mo", {"": "Content-Type: text/plain; charset=UTF-8\n", "Done": "完成", "Open": "打开"})
    assert mismatches_with_mo(entries, tmp_path / "django.mo") == [
        "stale in .mo line 5: 'Done': '完成' != '已完成'",
        "stale in .mo line 16: 'one item' form 0",
        "in .mo but not translated in .po: 'Open'",
    ]


def _write_mo(path: Path, messages: dict[str, str]) -> None:
    """Writes a GNU .mo file (the format msgfmt produces) without gettext tools."""
    keys = sorted(messages)
    ids = [k.encode() for k in keys]
    strs = [messages[k].encode() for k in keys]
    header_size, table_size = 7 * 4, len(keys) * 8
    offset = header_size + 2 * table_size
    id_table, str_table, data = [], [], b""
    for text in ids:
        id_table += [len(text), offset + len(data)]
        data += text + b"\0"
    for text in strs:
        str_table += [len(text), offset + len(data)]
        data += text + b"\0"
    header = struct.pack("7I", 0x950412DE, 0, len(keys), header_size, header_size + table_size, 0, 0)
    path.write_bytes(
        header + struct.pack(f"{len(id_table)}I", *id_table) + struct.pack(f"{len(str_table)}I", *str_table) + data
    )
