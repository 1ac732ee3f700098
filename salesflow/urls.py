from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import set_language
from analytics.urls import digest_urlpatterns
from analytics.views.pages import home
from pipeline.urls import account_urlpatterns

urlpatterns = [
    # Un-namespaced page names from the contract: "home", "login", "logout", "set_language".
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Before the i18n include, which has Django's own view under the same path and name.
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("analytics.urls")),
    path("digest/", include(digest_urlpatterns)),
    path("", include(account_urlpatterns)),
    path("", include("pipeline.urls")),
    path("api/", include("salesflow.api")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
