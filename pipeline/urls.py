"""Pipeline pages: board, opportunities and visits in the "pipeline" namespace, and the account pages.

The account pages live in pipeline because they show opportunities and visits (imports go pipeline → accounts);
their names keep the "accounts" namespace (accounts:detail, accounts:list). The account page itself (accounts:detail)
also shows the account's CV/PV matrix values, so it lives in analytics, which adds it to these patterns
(analytics.urls.account_urlpatterns, included by salesflow/urls.py).
"""

from django.urls import path

from pipeline.views import accounts, board, exports, imports, opportunities, search, visits, webhooks

app_name = "pipeline"

urlpatterns = [
    # Board and opportunity pages.
    path("pipeline/board/", board.board, name="board"),
    path("pipeline/board/<int:pk>/move/", board.board_move, name="board_move"),
    path("opportunities/", opportunities.opportunity_list, name="opportunity_list"),
    path("opportunities/export/", exports.opportunity_export, name="opportunity_export"),
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
    # Search: the page (and the header's as-you-type results), and the pickers' options.
    path("search/", search.search_page, name="search"),
    path("search/pick/", search.search_pick, name="search_pick"),
    # Imports: the kinds, templates and upload; one job's dry run, confirm and progress.
    path("imports/", imports.import_list, name="imports"),
    path("imports/templates/<slug:kind>.xlsx", imports.import_template, name="import_template"),
    path("imports/<int:pk>/", imports.import_job, name="import_job"),
    path("imports/<int:pk>/progress/", imports.import_job_progress, name="import_job_progress"),
    path("imports/<int:pk>/confirm/", imports.import_job_confirm, name="import_job_confirm"),
    # Visit pages: log, plan, week plan, list, one visit, and their htmx pieces.
    path("visits/", visits.visit_list, name="visit_list"),
    path("visits/export/", exports.visit_export, name="visit_export"),
    path("visits/log/", visits.visit_log, name="visit_log"),
    path("visits/plan/", visits.visit_plan, name="visit_plan"),
    path("visits/plan/new/", visits.visit_plan_create, name="visit_plan_create"),
    path("visits/plan/comments/", visits.visit_week_comment, name="visit_week_comment"),
    path("visits/accounts/search/", visits.visit_account_search, name="visit_account_search"),
    path("visits/accounts/picker/", visits.visit_account_picker, name="visit_account_picker"),
    path("visits/<int:pk>/", visits.visit_detail, name="visit"),
    path("visits/<int:pk>/complete/", visits.visit_complete, name="visit_complete"),
    path("visits/<int:pk>/cancel/", visits.visit_cancel, name="visit_cancel"),
    # Webhooks and group robots (directors only).
    path("settings/webhooks/", webhooks.webhook_list, name="webhook_list"),
    path("settings/webhooks/new/", webhooks.webhook_create, name="webhook_create"),
    path("settings/webhooks/<int:pk>/edit/", webhooks.webhook_edit, name="webhook_edit"),
    path("settings/webhooks/<int:pk>/deliveries/", webhooks.webhook_deliveries, name="webhook_deliveries"),
    path("settings/webhooks/<int:pk>/test/", webhooks.webhook_test, name="webhook_test"),
    path(
        "settings/webhooks/<int:pk>/deliveries/<int:delivery_pk>/resend/",
        webhooks.delivery_resend,
        name="webhook_delivery_resend",
    ),
]

account_urlpatterns = (
    [
        path("accounts/", accounts.account_list, name="list"),
        path("accounts/export/", exports.account_export, name="export"),
        path("contacts/export/", exports.contact_export, name="contact_export"),
        path("accounts/new/", accounts.account_create, name="create"),
        path("accounts/<int:pk>/edit/", accounts.account_edit, name="edit"),
        path("accounts/<int:pk>/archive/", accounts.account_archive, name="archive"),
        path("accounts/<int:pk>/restore/", accounts.account_restore, name="restore"),
        path("accounts/<int:pk>/competitor-win/", accounts.competitor_win, name="competitor_win"),
        path("accounts/<int:pk>/contacts/new/", accounts.contact_create, name="contact_create"),
        path("contacts/new/", accounts.contact_quick_create, name="contact_quick_create"),
        path("accounts/<int:pk>/contacts/<int:contact_pk>/edit/", accounts.contact_edit, name="contact_edit"),
        path("accounts/<int:pk>/contacts/<int:contact_pk>/archive/", accounts.contact_archive, name="contact_archive"),
        path("accounts/<int:pk>/contacts/<int:contact_pk>/restore/", accounts.contact_restore, name="contact_restore"),
    ],
    "accounts",
)
