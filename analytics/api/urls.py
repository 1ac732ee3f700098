"""Analytics endpoints, included by salesflow/api.py under /api/v1/analytics/."""

from django.urls import path

from analytics.api import changes, forecast, views, winloss

urlpatterns = [
    path("funnel/", views.FunnelView.as_view(), name="api-analytics-funnel"),
    path("cvpv/", views.CvPvView.as_view(), name="api-analytics-cvpv"),
    path("untouched/", views.UntouchedView.as_view(), name="api-analytics-untouched"),
    path("attainment/", views.AttainmentView.as_view(), name="api-analytics-attainment"),
    path("territory/", views.TerritoryView.as_view(), name="api-analytics-territory"),
    path("forecast/", forecast.ForecastView.as_view(), name="api-analytics-forecast"),
    path("forecast/calls/", forecast.ForecastCallView.as_view(), name="api-analytics-forecast-calls"),
    path("changes/", changes.ChangesView.as_view(), name="api-analytics-changes"),
    path("winloss/", winloss.WinLossView.as_view(), name="api-analytics-winloss"),
]
