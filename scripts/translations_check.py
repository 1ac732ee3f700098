"""Checks the zh-hans translation catalog: every message translated, none fuzzy, and the .mo compiled from the .po.

Usage: python scripts/translations_check.py [path/to/django.po]   (exit status 1 and a list when something is wrong)
Standard library only, so it runs where GNU gettext is not installed (CI); tests/test_translations.py uses it too.
"""

from __future__ import annotations

import ast
import gettext
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@dataclass
class Entry:
    """One message of a .po file; `msgstr` holds the forms by index (0 only, unless it is a plural message)."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def is_fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def is_translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())

    def label(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


def _unquote(text: str) -> str:
    return ast.literal_eval(text.strip())


def parse_po(path: Path) -> list[Entry]:
    """Parses the entries of a .po file (obsolete `#~` entries are skipped)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None  # which string a continuation line extends

    def finish() -> None:
        nonlocal entry, target
        if entry is not None and (entry.msgid or entry.msgstr):
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is not None and target is not None and target[0] == "msgstr":
                finish()  # a comment after msgstr starts the next entry
            entry = entry or Entry(line=number)
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith('"'):
            if entry is None or target is None:
                raise ValueError(f"{path}:{number}: string continuation outside an entry")
            name, index = target
            if name == "msgstr":
                entry.msgstr[index or 0] += _unquote(line)
            else:
                setattr(entry, name, getattr(entry, name) + _unquote(line))
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and entry is not None and target is not None and target[0] == "msgstr":
            finish()
        entry = entry or Entry(line=number)
        if keyword.startswith("msgstr["):
            index = int(keyword[len("msgstr[") : -1])
            entry.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
        elif keyword == "msgstr":
            entry.msgstr[0] = _unquote(rest)
            target = ("msgstr", 0)
        elif keyword in ("msgid", "msgid_plural", "msgctxt"):
            setattr(entry, keyword, _unquote(rest))
            target = (keyword, None)
        else:
            raise ValueError(f"{path}:{number}: unexpected line {raw!r}")
    finish()
    return entries


def problems_in_po(entries: list[Entry]) -> list[str]:
    """Lists messages that are untranslated or fuzzy (the header is allowed to be neither)."""
    found = []
    for entry in entries:
        if entry.is_header:
            continue
        if entry.is_fuzzy:
            found.append(f"fuzzy {entry.label()}")
        elif not entry.is_translated:
            found.append(f"untranslated {entry.label()}")
    return found


def mismatches_with_mo(entries: list[Entry], mo_path: Path) -> list[str]:
    """Lists messages whose translation in the compiled .mo differs from the .po (or is missing from it)."""
    if not mo_path.exists():
        return [f"{mo_path} does not exist: run compilemessages"]
    with mo_path.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    # gettext() answers the msgid itself when a message is missing, so compare the raw table instead.
    table = catalog._catalog  # the only way to see which keys the .mo really has
    found = []
    expected_keys = set()
    for entry in entries:
        if entry.is_header or entry.is_fuzzy or not entry.is_translated:
            continue
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected_keys.add(msgid)
            if table.get(msgid) != entry.msgstr[0]:
                found.append(f"stale in .mo {entry.label()}: {table.get(msgid)!r} != {entry.msgstr[0]!r}")
        else:
            for index, text in entry.msgstr.items():
                expected_keys.add((msgid, index))
                if table.get((msgid, index)) != text:
                    found.append(f"stale in .mo {entry.label()} form {index}")
    extra = {key for key in table if key != "" and key not in expected_keys}
    found.extend(f"in .mo but not translated in .po: {key!r}" for key in sorted(map(str, extra)))
    return found


def main(argv: list[str]) -> int:
    po_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_PO
    entries = parse_po(po_path)
    found = problems_in_po(entries) + mismatches_with_mo(entries, po_path.with_suffix(".mo"))
    for problem in found:
        sys.stdout.write(problem + "\n")
    sys.stdout.write(f"{po_path}: {len(entries) - 1} messages, {len(found)} problem(s)\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
