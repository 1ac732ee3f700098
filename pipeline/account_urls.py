"""Account pages. They live in pipeline because they show opportunities and visits (imports go pipeline → accounts);
their names keep the "accounts" namespace (accounts:detail, accounts:list)."""

from django.urls import path

from pipeline.views import accounts

app_name = "accounts"

urlpatterns = [
    path("accounts/", accounts.account_list, name="list"),
    path("accounts/new/", accounts.account_create, name="create"),
    path("accounts/<int:pk>/", accounts.account_detail, name="detail"),
    path("accounts/<int:pk>/edit/", accounts.account_edit, name="edit"),
    path("accounts/<int:pk>/contacts/new/", accounts.contact_create, name="contact_create"),
    path("accounts/<int:pk>/contacts/<int:contact_pk>/edit/", accounts.contact_edit, name="contact_edit"),
]
