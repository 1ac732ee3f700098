"""The `salesflow` template library: money formatting, bar widths and navigation that tolerates missing pages."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import resolve, reverse, set_script_prefix

from core.templatetags.salesflow import cny, percent_of
from salesflow import navigation


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234567"), "¥1,234,567"),
        (Decimal("1234567.49"), "¥1,234,567"),
        (Decimal("0.5"), "¥1"),
        (0, "¥0"),
        (Decimal("-2500"), "-¥2,500"),
        ("98000.00", "¥98,000"),
        (None, "—"),
        ("", "—"),
        ("abc", "—"),
    ],
)
def test_cny_formats_whole_yuan_with_thousands_separators(value, expected):
    assert cny(value) == expected


@pytest.mark.parametrize(
    ("value", "total", "expected"),
    [(50, 200, "25.0"), (Decimal("1"), Decimal("3"), "33.3"), (5, 0, "0"), (None, 10, "0"), (30, 20, "100.0")],
)
def test_percent_of_gives_a_bounded_css_percentage(value, total, expected):
    assert percent_of(value, total) == expected


def test_nav_url_is_blank_for_a_page_that_does_not_exist_yet():
    html = Template('{% load salesflow %}{% nav_url "home" %}|{% nav_url "nowhere:page" %}').render(Context())

    assert html == "/|"


def test_nav_links_show_only_resolvable_pages_and_mark_the_current_one(monkeypatch):
    monkeypatch.setattr(navigation, "NAV_ITEMS", [("home", "Home", ()), ("nowhere:page", "Missing", ())])
    request = RequestFactory().get("/")
    request.resolver_match = resolve("/")

    links = navigation.nav_links(request)

    assert [(link.label, link.url, link.is_active) for link in links] == [("Home", "/", True)]


@pytest.mark.parametrize(
    ("name", "pk"),
    [
        ("pipeline:visit", 7),
        ("pipeline:opportunity", 123456),
        ("accounts:detail", 1),
        ("analytics:todo_close_date", 42),
    ],
)
def test_url_of_is_the_url_tag_for_a_rows_id(name, pk):
    html = Template("{% load salesflow %}{% url_of name pk %}|{% url name pk %}").render(
        Context({"name": name, "pk": pk})
    )

    fast, reversed_ = html.split("|")
    assert fast == reversed_ == reverse(name, args=[pk])


def test_url_of_follows_the_script_prefix():
    set_script_prefix("/crm/")
    try:
        html = Template("{% load salesflow %}{% url_of 'pipeline:visit' 5 %}").render(Context())
    finally:
        set_script_prefix("/")

    assert html == "/crm/visits/5/"


def test_the_navigation_is_computed_once_per_request_however_often_a_page_shows_it(monkeypatch):
    calls = []
    monkeypatch.setattr(navigation, "nav_links", lambda request: calls.append(request) or ["link"])
    request = RequestFactory().get("/")

    html = Template("{% for l in nav_links %}{{ l }}{% endfor %}{% for l in nav_links %}{{ l }}{% endfor %}").render(
        Context(navigation.navigation(request))
    )

    assert html == "linklink" and calls == [request]
