"""Signing in and out, and the language switch that keeps the choice on the user."""

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_with_the_right_password_signs_in_and_goes_home(client):
    user = UserFactory(username="rep1")

    response = client.post(reverse("login"), {"username": "rep1", "password": "pw"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_honours_a_safe_next_and_ignores_an_outside_one(client):
    UserFactory(username="rep1")

    inside = client.post(reverse("login"), {"username": "rep1", "password": "pw", "next": "/login/?x=1"})
    client.logout()
    outside = client.post(reverse("login"), {"username": "rep1", "password": "pw", "next": "https://evil.example/"})

    assert inside["Location"] == "/login/?x=1"
    assert outside["Location"] == reverse("home")


def test_login_with_a_wrong_password_shows_the_error_and_signs_nobody_in(client):
    UserFactory(username="rep1")

    response = client.post(reverse("login"), {"username": "rep1", "password": "wrong"})

    assert response.status_code == 200
    assert "用户名或密码不正确，请重试。" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_page_renders_in_chinese_by_default_and_in_english_after_switching(client):
    chinese = client.get(reverse("login")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    english = client.get(reverse("login")).content.decode()

    assert "登录 SalesFlow" in chinese
    assert '<html lang="zh-hans">' in chinese
    assert "Sign in to SalesFlow" in english
    assert '<html lang="en">' in english


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_logout_is_a_post_that_signs_out(client):
    user = UserFactory(username="rep1")
    client.force_login(user)

    refused = client.get(reverse("logout"))
    response = client.post(reverse("logout"))

    assert refused.status_code == 405
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_home_renders_in_chinese_for_a_user_who_has_not_chosen(client):
    client.force_login(UserFactory(username="rep1"))

    html = client.get(reverse("home")).content.decode()

    assert "我的销售漏斗" in html
    assert "My pipeline" not in html


def test_language_switch_stores_the_choice_on_the_user_and_the_next_page_is_english(client):
    user = UserFactory(username="rep1", language="zh-hans")
    client.force_login(user)

    response = client.post(reverse("set_language"), {"language": "en", "next": "/?tab=1"})
    client.cookies.pop("django_language")  # the stored choice alone must be enough
    html = client.get(reverse("home")).content.decode()

    assert response.status_code == 302
    assert response["Location"] == "/?tab=1"
    user.refresh_from_db()
    assert user.language == "en"
    assert "<h1>My pipeline</h1>" in html
    assert "我的销售漏斗" not in html


def test_language_switch_back_to_chinese(client):
    user = UserFactory(username="rep1", language="en")
    client.force_login(user)

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})

    user.refresh_from_db()
    assert user.language == "zh-hans"
    assert "我的销售漏斗" in client.get(reverse("home")).content.decode()


def test_language_switch_ignores_an_unknown_language(client):
    user = UserFactory(username="rep1", language="zh-hans")
    client.force_login(user)

    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})

    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).language == "zh-hans"
    assert "django_language" not in response.cookies


def test_language_switch_never_redirects_off_site(client):
    client.force_login(UserFactory(username="rep1"))

    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_language_switch_refuses_get_and_changes_nothing(client):
    user = UserFactory(username="rep1", language="zh-hans")
    client.force_login(user)

    response = client.get(reverse("set_language"), {"language": "en", "next": "/"})

    assert response.status_code == 405
    assert User.objects.get(pk=user.pk).language == "zh-hans"


def test_anonymous_language_switch_sets_the_cookie(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/login/"})

    assert response["Location"] == "/login/"
    assert response.cookies["django_language"].value == "en"


def test_the_language_picked_on_the_login_page_becomes_the_users_own_at_sign_in(client):
    user = UserFactory(username="rep1", language="zh-hans")
    user.set_password("salesflow")
    user.save()

    client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    client.post(reverse("login"), {"username": "rep1", "password": "salesflow"})
    home = client.get(reverse("home")).content.decode()

    user.refresh_from_db()
    assert user.language == "en"
    assert "My pipeline" in home


def test_signing_in_without_picking_a_language_keeps_the_profiles(client):
    user = UserFactory(username="rep1", language="en")
    user.set_password("salesflow")
    user.save()

    client.post(reverse("login"), {"username": "rep1", "password": "salesflow"})

    user.refresh_from_db()
    assert user.language == "en"
