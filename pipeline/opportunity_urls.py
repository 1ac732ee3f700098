"""Pipeline board and opportunity pages (names in the "pipeline" namespace)."""

from django.urls import path

from pipeline.views import board, opportunities

urlpatterns = [
    path("pipeline/board/", board.board, name="board"),
    path("pipeline/board/<int:pk>/move/", board.board_move, name="board_move"),
    path("opportunities/", opportunities.opportunity_list, name="opportunity_list"),
    path("opportunities/new/", opportunities.opportunity_create, name="opportunity_create"),
    path("opportunities/<int:pk>/", opportunities.opportunity_detail, name="opportunity"),
    path("opportunities/<int:pk>/move/", opportunities.opportunity_move, name="opportunity_move"),
    path(
        "opportunities/<int:pk>/criteria/<slug:code>/",
        opportunities.opportunity_criterion,
        name="opportunity_criterion",
    ),
    path("opportunities/<int:pk>/win/", opportunities.opportunity_win, name="opportunity_win"),
    path("opportunities/<int:pk>/lose/", opportunities.opportunity_lose, name="opportunity_lose"),
    path("opportunities/<int:pk>/reopen/", opportunities.opportunity_reopen, name="opportunity_reopen"),
    path("opportunities/<int:pk>/probability/", opportunities.opportunity_probability, name="opportunity_probability"),
    path("opportunities/<int:pk>/edit/", opportunities.opportunity_edit, name="opportunity_edit"),
]
