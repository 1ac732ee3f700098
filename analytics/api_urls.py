"""Analytics endpoints, included by salesflow/api.py under /api/v1/analytics/."""

from django.urls import path

from analytics import api

urlpatterns = [
    path("funnel/", api.FunnelView.as_view(), name="api-analytics-funnel"),
    path("cvpv/", api.CvPvView.as_view(), name="api-analytics-cvpv"),
    path("untouched/", api.UntouchedView.as_view(), name="api-analytics-untouched"),
    path("attainment/", api.AttainmentView.as_view(), name="api-analytics-attainment"),
    path("territory/", api.TerritoryView.as_view(), name="api-analytics-territory"),
]
