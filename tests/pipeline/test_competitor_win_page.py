"""Recording a competitor's win from the account page (SPEC §4, issue 13): the owner (or their manager) fills a short
form; it lands on the account page as a lost opportunity counted as an untouched loss."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Opportunity
from tests.factories import AccountFactory, CompetitorFactory, VisitFactory

pytestmark = pytest.mark.django_db


def _form(competitor, **changes) -> dict:
    data = {
        "lost_to": competitor.pk,
        "closed_on": (timezone.localdate() - timedelta(days=3)).isoformat(),
        "amount": "120000",
        "loss_reason": "price",
        "untouched_cause": "noticed_late",
    }
    data.update(changes)
    return data


def _login(client, user, language="en"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)


def test_the_owner_records_a_competitors_win_and_lands_on_the_account_page(client, org):
    account, canon = AccountFactory(owner=org.rep_a1, name="博远"), CompetitorFactory(name="Canon")
    _login(client, org.rep_a1)
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    url = reverse("accounts:competitor_win", args=[account.pk])
    assert f'href="{url}"' in page

    response = client.post(url, _form(canon))

    assert response.status_code == 302
    assert response["Location"] == account.get_absolute_url()
    opportunity = Opportunity.objects.get()
    assert (
        opportunity.status,
        opportunity.owner,
        opportunity.lost_to,
        opportunity.amount,
        opportunity.loss_reason,
        opportunity.is_untouched_loss,
        opportunity.untouched_cause,
        opportunity.name,
    ) == ("lost", org.rep_a1, canon, Decimal("120000.00"), "price", True, "noticed_late", "Canon won at 博远")
    assert timezone.localtime(opportunity.closed_at).date() == timezone.localdate() - timedelta(days=3)


def test_a_manager_records_it_for_their_reps_account_owned_by_the_rep(client, org):
    account, canon = AccountFactory(owner=org.rep_a2), CompetitorFactory()
    _login(client, org.manager_a)

    assert client.post(reverse("accounts:competitor_win", args=[account.pk]), _form(canon)).status_code == 302

    assert Opportunity.objects.get().owner == org.rep_a2


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_missing_cause_or_a_future_date_is_refused_in_the_users_language(client, org, language):
    account, canon = AccountFactory(owner=org.rep_a1), CompetitorFactory()
    _login(client, org.rep_a1, language)
    url = reverse("accounts:competitor_win", args=[account.pk])

    no_cause = client.post(url, _form(canon, untouched_cause=""))
    future = client.post(url, _form(canon, closed_on=(timezone.localdate() + timedelta(days=2)).isoformat()))

    assert no_cause.status_code == 200 and future.status_code == 200
    assert list(no_cause.context["form"].errors) == ["untouched_cause"]
    assert list(future.context["form"].errors) == ["__all__"]
    cause_error = no_cause.context["form"].errors["untouched_cause"][0]
    if language == "en":
        assert cause_error == "An untouched loss needs its cause, chosen from the list."
    else:
        assert cause_error == "未接触性失败需从列表中选择原因。"
    assert Opportunity.objects.count() == 0


def test_someone_who_may_not_edit_the_account_gets_404(client, org):
    account, canon = AccountFactory(owner=org.rep_a2), CompetitorFactory()
    VisitFactory(account=account, owner=org.rep_a1)  # rep_a1 sees it read-only
    url = reverse("accounts:competitor_win", args=[account.pk])

    for user in (org.rep_a1, org.rep_b1, org.manager_b):
        _login(client, user)
        assert client.get(url).status_code == 404
        assert client.post(url, _form(canon)).status_code == 404
    _login(client, org.rep_a1)
    assert (
        reverse("accounts:competitor_win", args=[account.pk])
        not in client.get(account.get_absolute_url()).content.decode()
    )
    assert Opportunity.objects.count() == 0
