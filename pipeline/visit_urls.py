"""Visit pages (names in the "pipeline" namespace): log, plan, week plan, list, one visit, and their htmx pieces."""

from django.urls import path

from pipeline.views import visits

urlpatterns = [
    path("visits/", visits.visit_list, name="visit_list"),
    path("visits/log/", visits.visit_log, name="visit_log"),
    path("visits/plan/", visits.visit_plan, name="visit_plan"),
    path("visits/plan/new/", visits.visit_plan_create, name="visit_plan_create"),
    path("visits/plan/comments/", visits.visit_week_comment, name="visit_week_comment"),
    path("visits/accounts/search/", visits.visit_account_search, name="visit_account_search"),
    path("visits/accounts/picker/", visits.visit_account_picker, name="visit_account_picker"),
    path("visits/<int:pk>/", visits.visit_detail, name="visit"),
    path("visits/<int:pk>/complete/", visits.visit_complete, name="visit_complete"),
    path("visits/<int:pk>/cancel/", visits.visit_cancel, name="visit_cancel"),
]
