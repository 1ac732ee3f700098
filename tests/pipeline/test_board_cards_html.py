"""The board view draws each card (pipeline/views/board.py `_CARD`) exactly as board.html's `card` partial does, in
both languages, for a rep (no owner line) and a manager, stale or not, with names that need escaping; a refused card
is still drawn by the partial, with its reason."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from pytest_django.asserts import assertHTMLEqual

from tests.factories import AccountFactory, OpportunityFactory

BOARD = reverse("pipeline:board")


@pytest.fixture
def cards(org):
    long_ago = timezone.now() - timedelta(days=30)
    account = AccountFactory(owner=org.rep_a1, name='<b>"华东" & 医院</b>')
    OpportunityFactory(
        owner=org.rep_a1, account=account, name="旧商机 <i>", created_at=long_ago, stage_entered_at=long_ago
    )
    OpportunityFactory(owner=org.rep_a1, account=account, name="新商机")
    OpportunityFactory(owner=org.rep_a2, name="同事的商机")


def partial_of(card, column, response, language: str) -> str:
    """What the template's own `card` partial draws for the card, with the board's context."""
    context = response.context
    with translation.override(language):
        labels = {
            "move_label": translation.gettext("Move"),
            "move_to_stage_label": translation.gettext("Move to stage"),
            "stale_label": translation.gettext("Stale"),
            "stale_title": translation.gettext("No stage change and no completed visit for a long time"),
        }
        token = card.html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        return render_to_string(
            "pipeline/board.html#card",
            {
                "card": card,
                "column": column,
                "show_owner": context["show_owner"],
                "refused_id": context["refused_id"],
                "csrf_token": token,
                **labels,
            },
        )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a"])
def test_every_card_is_drawn_as_the_template_draws_it(client, org, cards, viewer, language):
    user = getattr(org, viewer)
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)

    response = client.get(BOARD)

    drawn = [(card, column) for column in response.context["columns"] for card in column.cards]
    assert len(drawn) == (2 if viewer == "rep_a1" else 3)
    assert sum(card.is_stale for card, _column in drawn) == 1
    for card, column in drawn:
        assert card.html == partial_of(card, column, response, language)
        assert card.html in response.content.decode()
    assert "&lt;b&gt;&quot;华东&quot; &amp; 医院&lt;/b&gt;" in response.content.decode()
    assert ("Move to stage" in response.content.decode()) is (language == "en")


def test_a_refused_card_is_drawn_by_the_template_with_its_reason(client, org, cards):
    from pipeline.models import Opportunity

    opportunity = Opportunity.objects.get(name="新商机")
    client.force_login(org.rep_a1)

    response = client.post(
        reverse("pipeline:board_move", args=[opportunity.pk]), {"stage": "status", "version": 1}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    refused = html.split(f'id="card-{opportunity.pk}"', 1)[1].split("</li>", 1)[0]
    assert 'class="board-card__error" role="alert"' in refused
    assert "已写明拜访目的" in refused  # its unmet criterion, on the card
    assert html.count('class="board-card__error"') == 1  # the other card, drawn by the view, has none
    assert html.count('class="board-card') - html.count('class="board-card__') == 2


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewer", ["rep_a1", "director"])
def test_every_column_is_drawn_as_the_template_draws_it(client, org, cards, viewer, language, settings):
    """The view's column (`_COLUMN`) is, as HTML, the template's `column` partial: header, totals, the first
    column's add link, its cards, "no opportunities" on an empty column and "n more" on a column cut short."""
    settings.SALESFLOW_BOARD_CARDS_PER_COLUMN = 1  # the rep's two cards in one stage: one shown, one more
    user = getattr(org, viewer)
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)

    response = client.get(BOARD)

    context, html = response.context, response.content.decode()
    columns = context["columns"]
    assert all(column.html for column in columns)
    assert sum(column.hidden_count > 0 for column in columns) == 1
    assert sum(not column.cards for column in columns) == len(columns) - 1
    with translation.override(language):
        for index, column in enumerate(columns):
            template_column = render_to_string(
                "pipeline/board.html#column",
                {
                    "column": column,
                    "forloop": {"first": index == 0},
                    "add_here": context["add_here"],
                    "pipeline": context["pipeline"],
                    "list_url": context["list_url"],
                    "refused_id": None,
                },
            )
            drawn = column.html
            if cards_html := "".join(card.html for card in column.cards):  # held to the card partial above
                drawn, template_column = (
                    drawn.replace(cards_html, "CARDS"),
                    template_column.replace(cards_html, "CARDS"),
                )
            assertHTMLEqual(drawn, template_column)
            assert column.html in html
