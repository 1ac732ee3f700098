"""Self-service password reset by email, in the user's language, with Django's views and our templates."""

import re

import pytest
from django.core import mail
from django.utils import translation

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/password-reset/\S+/)", message.body).group(1)


def test_a_user_resets_a_forgotten_password_through_the_emailed_link(client):
    user = UserFactory(username="rep7", email="rep7@example.com")
    user.set_password("old-password-123")
    user.save()

    asked = client.post("/password-reset/", {"email": "rep7@example.com"})
    assert asked.status_code == 302
    assert asked.headers["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rep7@example.com"]
    assert "rep7" in mail.outbox[0].body

    form = client.get(_link(mail.outbox[0]), follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-Better-pass-2026", "new_password2": "a-Better-pass-2026"}
    )

    assert done.status_code == 302
    assert done.headers["Location"] == "/password-reset/done/"
    user.refresh_from_db()
    assert user.check_password("a-Better-pass-2026")
    assert client.get(_link(mail.outbox[0]), follow=True).context["validlink"] is False


def test_an_unknown_address_gets_the_same_answer_and_no_email(client):
    response = client.post("/password-reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/password-reset/sent/"
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("language", "subject", "page_title"),
    [
        ("zh-hans", "SalesFlow：设置新密码", "重置密码"),
        ("en", "SalesFlow: choose a new password", "Reset your password"),
    ],
)
def test_the_pages_and_email_speak_the_visitors_language(client, language, subject, page_title):
    UserFactory(username="rep8", email="rep8@example.com")
    client.cookies["django_language"] = language

    page = client.get("/password-reset/")
    client.post("/password-reset/", {"email": "rep8@example.com"})

    assert page_title in page.content.decode()
    assert mail.outbox[0].subject == subject
    translation.activate("zh-hans")


def test_the_login_page_links_to_the_password_reset(client):
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()
