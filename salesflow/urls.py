from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from accounts.views import SignInView, profile, profile_calendar_regenerate, profile_reminders, set_language
from analytics.urls import account_urlpatterns, digest_urlpatterns
from analytics.views.pages import home
from pipeline.views.calendar_feed import calendar_feed


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without an icon link (the admin, a JSON answer): the same icon."""
    return redirect(static("favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    # Un-namespaced page names from the contract: "home", "login", "logout", "set_language".
    path("", home, name="home"),
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Self-service password reset by email: Django's views, our templates (templates/registration/password_reset_*).
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    # Before the i18n include, which has Django's own view under the same path and name.
    path("i18n/setlang/", set_language, name="set_language"),
    path("profile/", profile, name="profile"),
    # The calendar feed: no sign-in, the token in the URL is the secret.
    path("calendar/<str:token>.ics", calendar_feed, name="calendar_feed"),
    path("profile/reminders/", profile_reminders, name="profile_reminders"),
    path("profile/calendar/regenerate/", profile_calendar_regenerate, name="profile_calendar_regenerate"),
    path("", include("analytics.urls")),
    path("digest/", include(digest_urlpatterns)),
    path("", include(account_urlpatterns)),
    path("", include("pipeline.urls")),
    path("api/", include("salesflow.api")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
