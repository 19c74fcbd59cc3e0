"""Browser pages of notebooks-to-apps (the JSON API lives under ``/api/v1``)."""

from django.urls import path

from apps.deployments.views import pages

urlpatterns = [
    path("notebooks", pages.notebooks_page, name="notebooks-page"),
    path("notebooks/<int:notebook_id>", pages.notebook_detail_page, name="notebook-page"),
    path("deployments", pages.deployments_page, name="deployments-page"),
]
