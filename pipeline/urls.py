from django.urls import include, path

app_name = "pipeline"

# One URL module per page area, so each can grow on its own; all names live in the "pipeline" namespace.
urlpatterns = [
    path("", include("pipeline.opportunity_urls")),
    path("", include("pipeline.visit_urls")),
]
