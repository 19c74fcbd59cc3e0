"""Routes of the jobs app."""

from django.urls import include, path

urlpatterns: list = [
    path("", include("apps.jobs.urls_plugins")),
    path("", include("apps.jobs.urls_jobs")),
]
