"""The layout STYLE.md §1 promises, read from the source: imports go one way, modules hold one topic.

`core` is the ground floor and imports no app; then accounts → pipeline → analytics; `demo` and `salesflow` stand on
top. Every import counts, also inside functions and under TYPE_CHECKING, since an arrow back up is what makes a
lower app impossible to read (or test) without the higher one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"core": 0, "accounts": 1, "pipeline": 2, "analytics": 3, "demo": 4, "salesflow": 5}
# Data tables, not code: the process templates are the decks' stage texts.
LONG_DATA_MODULES = {"pipeline/process_templates.py"}
MAX_LINES = 500


def _modules(app: str) -> list[Path]:
    return sorted(path for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts)


def _imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & LAYERS.keys()


def _app_modules() -> list[tuple[str, Path]]:
    return [(app, path) for app in LAYERS for path in _modules(app)]


def test_every_app_of_the_layout_exists():
    assert [app for app in LAYERS if not (ROOT / app / "__init__.py").exists()] == []


@pytest.mark.parametrize("app", LAYERS)
def test_imports_only_point_down(app):
    upward = {
        f"{path.relative_to(ROOT)} imports {imported}"
        for path in _modules(app)
        for imported in _imported_apps(path)
        if LAYERS[imported] > LAYERS[app]
    }

    assert sorted(upward) == []


def test_core_imports_no_app():
    assert sorted(str(path.relative_to(ROOT)) for path in _modules("core") if _imported_apps(path) - {"core"}) == []


def test_demo_is_imported_by_no_app():
    importers = [
        str(path.relative_to(ROOT)) for app, path in _app_modules() if app != "demo" and "demo" in _imported_apps(path)
    ]

    assert importers == []


def test_no_module_of_code_is_longer_than_about_five_hundred_lines():
    too_long = {
        str(path.relative_to(ROOT)): count
        for _app, path in _app_modules()
        if str(path.relative_to(ROOT)) not in LONG_DATA_MODULES
        and (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }

    assert too_long == {}


def test_no_module_has_a_second_import_block():
    late = [
        str(path.relative_to(ROOT)) for _app, path in _app_modules() if "noqa: E402" in path.read_text(encoding="utf-8")
    ]

    assert late == []


def test_views_and_api_leave_transactions_to_the_services():
    """A view or endpoint calls one service per request, and that service owns the transaction."""
    request_layers = [
        path
        for _app, path in _app_modules()
        if {"views", "api"} & set(path.relative_to(ROOT).parts[1:-1]) or path.stem in {"views", "api"}
    ]
    composing = [str(path.relative_to(ROOT)) for path in request_layers if "transaction." in path.read_text("utf-8")]

    assert request_layers
    assert composing == []
