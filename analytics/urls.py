"""Analytics pages (app "analytics") and, as `digest_urlpatterns`, the weekly digest's pages (namespace "digest",
included by salesflow/urls.py under /digest/; SPEC §8)."""

from django.urls import path

from analytics.views import digest, jobs, pages

app_name = "analytics"

urlpatterns = [
    path("team/", pages.team, name="team"),
    path("matrix/", pages.matrix, name="matrix"),
    path("territory/", pages.territory, name="territory"),
    path("targets/", pages.targets, name="targets"),
    path("jobs/", jobs.jobs, name="jobs"),
]

digest_urlpatterns = (
    [
        path("preview/", digest.preview, name="preview"),
        path("opt-out/", digest.opt_out, name="opt_out"),
    ],
    "digest",
)
