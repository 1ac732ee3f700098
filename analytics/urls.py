"""Analytics pages (app "analytics"), the account pages (`account_urlpatterns`, namespace "accounts") and, as
`digest_urlpatterns`, the weekly digest's pages (namespace "digest", included by salesflow/urls.py under /digest/;
SPEC §8)."""

from django.urls import path

from analytics.views import accounts, cockpit, digest, exports, jobs, manager, pages, targets_edit, todo
from pipeline.urls import account_urlpatterns as pipeline_account_urlpatterns

app_name = "analytics"

urlpatterns = [
    path("team/", pages.team, name="team"),
    path("team/<int:user_id>/", cockpit.rep_cockpit, name="rep_cockpit"),
    path("matrix/", pages.matrix, name="matrix"),
    path("territory/", pages.territory, name="territory"),
    path("targets/", pages.targets, name="targets"),
    path("targets/edit/", targets_edit.targets_edit, name="targets_edit"),
    path("analytics/changes/", manager.changes, name="changes"),
    path("analytics/winloss/", manager.winloss, name="winloss"),
    path("analytics/forecast/", manager.forecast, name="forecast"),
    path("analytics/forecast/call/", manager.forecast_call, name="forecast_call"),
    path("team/export/", exports.team_export, name="team_export"),
    path("matrix/export/", exports.matrix_export, name="matrix_export"),
    path("territory/export/", exports.territory_export, name="territory_export"),
    path("targets/export/", exports.targets_export, name="targets_export"),
    path("analytics/changes/export/", exports.changes_export, name="changes_export"),
    path("analytics/winloss/export/", exports.winloss_export, name="winloss_export"),
    path("analytics/forecast/export/", exports.forecast_export, name="forecast_export"),
    path("jobs/", jobs.jobs, name="jobs"),
    path("todo/badge/", todo.due_badge, name="due_badge"),
    path("todo/stale/", todo.stale_list, name="todo_stale"),
    path("todo/untouched/", todo.untouched_list, name="todo_untouched"),
    path("todo/visits/<int:pk>/done/", todo.visit_done, name="todo_visit_done"),
    path("todo/visits/<int:pk>/reschedule/", todo.visit_reschedule, name="todo_visit_reschedule"),
    path("todo/opportunities/<int:pk>/close-date/", todo.close_date, name="todo_close_date"),
]

digest_urlpatterns = (
    [
        path("preview/", digest.preview, name="preview"),
        path("opt-out/", digest.opt_out, name="opt_out"),
    ],
    "digest",
)

# The account pages in the "accounts" namespace: pipeline's, plus the account page itself, which shows the account's
# matrix values too and so lives here (included by salesflow/urls.py).
account_urlpatterns = (
    [path("accounts/<int:pk>/", accounts.account_detail, name="detail"), *pipeline_account_urlpatterns[0]],
    "accounts",
)
