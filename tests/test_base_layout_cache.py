"""base.html keeps its navigation chrome in `{% cache %}` blocks keyed by role, language and page: what varies by
user or request (the name, the CSRF token, the language form's return path) must never be served from them."""

import re

import pytest
from django.core.cache import caches
from django.urls import reverse


@pytest.fixture
def fragments(settings):
    """A cache of its own for the fragments, as in production (settings.CACHES["template_fragments"])."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "template_fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-frag"},
    }
    caches["template_fragments"].clear()
    yield caches["template_fragments"]
    caches["template_fragments"].clear()


def _page(client, user, url="/"):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _current_links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page"', html)


def test_each_role_gets_its_own_navigation_from_the_cache(client, org, fragments):
    rep_page = _page(client, org.rep_a1)
    director_page = _page(client, org.director)
    second_rep_page = _page(client, org.rep_b1)

    jobs = f'href="{reverse("analytics:jobs")}"'
    assert jobs in director_page
    assert jobs not in rep_page
    assert jobs not in second_rep_page  # served from the rep's cached block, still without the director's links
    assert any(key for key in fragments._cache)  # the blocks really were cached


def test_the_active_link_follows_the_page(client, org, fragments):
    home = _page(client, org.rep_a1, "/")
    board = _page(client, org.rep_a1, reverse("pipeline:board"))

    assert _current_links(home) == ["/"]
    assert reverse("pipeline:board") in _current_links(board)
    assert "/" not in _current_links(board)


def test_the_name_and_the_csrf_token_are_each_users_own(client, org, fragments):
    first = _page(client, org.rep_a1)
    client.logout()
    second = _page(client, org.rep_a2)

    assert org.rep_a1.display_name in first and org.rep_a1.display_name not in second
    assert org.rep_a2.display_name in second
    tokens = [re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html) for html in (first, second)]
    assert tokens[0] and tokens[1] and set(tokens[0]).isdisjoint(tokens[1])


def test_the_language_switch_returns_to_the_page_it_is_on(client, org, fragments):
    _page(client, org.rep_a1, "/")
    board = _page(client, org.rep_a1, f"{reverse('pipeline:board')}?owner={org.rep_a1.pk}")

    assert f'name="next" value="{reverse("pipeline:board")}?owner={org.rep_a1.pk}"' in board


def test_english_users_get_english_navigation_after_a_chinese_user(client, org, fragments):
    org.rep_a2.language = "en"
    org.rep_a2.save(update_fields=["language"])

    chinese = _page(client, org.rep_a1)
    english = _page(client, org.rep_a2)

    assert ">商机<" in chinese
    assert ">Opportunities<" in english
    assert ">Opportunities<" not in chinese
