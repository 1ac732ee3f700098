"""The account page's timeline cuts long visit texts as the truncatechars filter does (the selector cuts them now)."""

import pytest
from django.template.defaultfilters import truncatechars
from django.utils import timezone

from pipeline.models import Visit
from pipeline.selectors.accounts import account_page
from tests.factories import AccountFactory, VisitFactory

pytestmark = pytest.mark.django_db


def test_long_texts_are_cut_short_ones_left_alone(org, client):
    account = AccountFactory(owner=org.rep_a1)
    VisitFactory(account=account, purpose="甲" * 250)
    VisitFactory(account=account, purpose="拜访" * 100)  # exactly 200 characters: left whole
    VisitFactory(
        account=account,
        status=Visit.Status.DONE,
        done_at=timezone.now(),
        summary="总结" * 150,
        next_step="下一步" * 50,
    )
    page = account_page(viewer=org.rep_a1, pk=account.pk)
    texts = sorted((visit.purpose, visit.summary, visit.next_step) for visit in page.visits)
    purposes = sorted(visit.purpose for visit in page.visits if visit.status == Visit.Status.PLANNED)
    # what the truncatechars filter gives (its ellipsis is translated: "..." in 简体中文)
    assert purposes == sorted([truncatechars("甲" * 250, 200), "拜访" * 100])
    assert purposes[1].startswith("甲" * 190) and len(purposes[1]) == 200
    done = next(visit for visit in page.visits if visit.status == Visit.Status.DONE)
    assert done.summary == truncatechars("总结" * 150, 200) and len(done.summary) == 200
    assert done.next_step == truncatechars("下一步" * 50, 120) and len(done.next_step) == 120
    assert len(texts) == 3
    client.force_login(org.rep_a1)
    html = client.get(f"/accounts/{account.pk}/").content.decode()
    assert purposes[1] in html and "甲" * 200 not in html
    assert "拜访" * 100 in html
