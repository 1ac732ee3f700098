from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("analytics.urls")),
    path("", include("pipeline.account_urls")),
    path("", include("pipeline.urls")),
    path("api/", include("salesflow.api")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
