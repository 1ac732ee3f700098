"""The company always keeps an active sales director: the last one cannot be demoted or deactivated by the service,
the admin or the API (issue 11 §5)."""

import threading

import pytest
from django import forms
from django.contrib.auth.models import update_last_login
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import LastDirector, archive_team, update_user
from core.errors import ValidationFailed
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def director_state(user: User) -> tuple[str, bool]:
    user.refresh_from_db()
    return (user.role, user.is_active)


# --- service ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "field"), [({"role": "manager"}, "role"), ({"is_active": False}, "is_active")])
def test_the_last_director_cannot_be_demoted_or_deactivated(org, change, field):
    with pytest.raises(LastDirector) as refused:
        update_user(user=org.director, changed_by=org.director, **change)

    assert (refused.value.field, refused.value.code) == (field, "last_director")
    assert director_state(org.director) == ("director", True)


def test_a_director_steps_down_once_another_director_is_active(org):
    successor = UserFactory(username="successor", role="director")

    update_user(user=org.director, changed_by=successor, role="manager")

    assert director_state(org.director) == ("manager", True)
    with pytest.raises(LastDirector):
        update_user(user=successor, changed_by=successor, is_active=False)


def test_an_inactive_director_does_not_count(org):
    UserFactory(username="retired", role="director", is_active=False)

    with pytest.raises(LastDirector):
        update_user(user=org.director, changed_by=org.director, role="rep")

    assert director_state(org.director) == ("director", True)


def test_other_users_change_freely(org):
    update_user(user=org.rep_a1, changed_by=org.director, role="manager", first_name="伟")

    assert director_state(org.rep_a1) == ("manager", True)


def test_nobody_is_put_into_an_archived_team(org):
    archived = archive_team(team=TeamFactory(name="Former"), archived_by=org.director)

    with pytest.raises(ValidationFailed) as refused:
        update_user(user=org.rep_a2, changed_by=org.director, team=archived)

    assert refused.value.field == "team"
    org.rep_a2.refresh_from_db()
    assert org.rep_a2.team == org.team_a


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_directors_demoting_each_other_at_once_leave_one_director():
    first = UserFactory(username="first", role="director")
    second = UserFactory(username="second", role="director")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(user: User) -> None:
        try:
            barrier.wait()
            update_user(user=user, changed_by=user, role="manager")
            outcomes.append("demoted")
        except LastDirector:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=(u,)) for u in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["demoted", "refused"]
    assert User.objects.filter(role="director", is_active=True).count() == 1


# --- admin ---------------------------------------------------------------------------------------------------------


def change_form_data(admin_client, user: User, **changes) -> dict:
    """What the admin's change form for `user` would send back unchanged, with `changes` applied."""
    form = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk])).context["adminform"].form
    data: dict = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled:
            continue
        if isinstance(field.widget, forms.MultiWidget):
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{index}"] = "" if part is None else part
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        else:
            data[name] = value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    return data


@pytest.fixture
def staff(db):
    return User.objects.create_superuser(username="admin", email="admin@example.com", password="pw")


@pytest.mark.parametrize(("change", "field"), [({"role": "rep"}, "role"), ({"is_active": False}, "is_active")])
def test_the_admin_refuses_to_demote_or_deactivate_the_last_director(client, org, staff, change, field):
    client.force_login(staff)
    update_last_login(None, org.director)

    response = client.post(
        reverse("admin:accounts_user_change", args=[org.director.pk]), change_form_data(client, org.director, **change)
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == [field]
    assert director_state(org.director) == ("director", True)


def test_the_admin_saves_a_directors_other_changes(client, org, staff):
    client.force_login(staff)

    response = client.post(
        reverse("admin:accounts_user_change", args=[org.director.pk]),
        change_form_data(client, org.director, first_name="总"),
    )

    assert response.status_code == 302
    org.director.refresh_from_db()
    assert (org.director.first_name, org.director.role) == ("总", "director")


def test_the_admin_does_not_offer_to_delete_the_last_director(client, org, staff):
    client.force_login(staff)

    response = client.post(reverse("admin:accounts_user_delete", args=[org.director.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert User.objects.filter(pk=org.director.pk).exists()


# --- API -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def api():
    def client_for(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


@pytest.mark.parametrize(("change", "field"), [({"role": "manager"}, "role"), ({"is_active": False}, "is_active")])
def test_the_api_refuses_to_demote_or_deactivate_the_last_director(api, org, change, field):
    response = api(org.director).patch(f"/api/v1/users/{org.director.pk}/", change)

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body)) == ("last_director", [field, "detail", "code"])
    assert director_state(org.director) == ("director", True)


def test_the_api_changes_another_user(api, org):
    response = api(org.director).patch(f"/api/v1/users/{org.rep_a1.pk}/", {"role": "manager", "is_active": False})

    assert response.status_code == 200, response.json()
    assert director_state(org.rep_a1) == ("manager", False)
