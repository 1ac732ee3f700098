"""Account pages. They live in pipeline because they show opportunities and visits (imports go pipeline → accounts);
their names keep the "accounts" namespace (accounts:detail, accounts:list)."""

from django.urls import path  # noqa: F401

app_name = "accounts"

urlpatterns: list = []
