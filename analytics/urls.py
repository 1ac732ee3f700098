from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("team/", views.team, name="team"),
    path("matrix/", views.matrix, name="matrix"),
    path("territory/", views.territory, name="territory"),
    path("targets/", views.targets, name="targets"),
]
