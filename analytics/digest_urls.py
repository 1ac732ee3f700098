"""The weekly digest's pages: preview it in the browser and opt out of it (SPEC §8)."""

from django.urls import path

from analytics import digest_views

app_name = "digest"

urlpatterns = [
    path("preview/", digest_views.preview, name="preview"),
    path("opt-out/", digest_views.opt_out, name="opt_out"),
]
