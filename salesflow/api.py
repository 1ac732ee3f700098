"""The REST API under /api/: router, schema and docs."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
