"""The admin speaks Chinese to a Chinese-speaking superuser: app headers, model names and actions (issue 12)."""

import re

from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from tests.factories import UserFactory

CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_superuser():
    return UserFactory(username="root", role="director", is_staff=True, is_superuser=True, language="zh-hans")


def test_the_admin_index_shows_every_app_and_model_header_in_chinese(client, db):
    client.force_login(chinese_superuser())

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    app_list = response.context["app_list"]
    assert {app["app_label"] for app in app_list} >= {"accounts", "pipeline", "analytics", "auth"}
    english = [app["name"] for app in app_list if not CJK.search(str(app["name"]))]
    english += [model["name"] for app in app_list for model in app["models"] if not CJK.search(str(model["name"]))]
    assert english == []
    html = response.content.decode()
    for app in app_list:
        assert f">{app['name']}</a>" in html


def test_every_admin_action_and_model_verbose_name_has_a_chinese_label(db):
    with translation.override("zh-hans"):
        untranslated = [
            f"{model._meta.label}: {name}"
            for model in admin.site._registry
            for name in (model._meta.verbose_name, model._meta.verbose_name_plural, model._meta.app_config.verbose_name)
            if not CJK.search(str(name))
        ]
        for model, model_admin in admin.site._registry.items():
            for _action, name, description in model_admin._get_base_actions():
                if not CJK.search(str(description) % {"verbose_name_plural": model._meta.verbose_name_plural}):
                    untranslated.append(f"{model._meta.label} action {name}")

    assert untranslated == []


def test_an_admin_list_page_names_its_model_and_actions_in_chinese(client, db):
    client.force_login(chinese_superuser())

    html = client.get(reverse("admin:accounts_account_changelist")).content.decode()

    assert "Select account to change" not in html
    assert "Delete selected" not in html
    assert "Archive the selected rows" not in html
