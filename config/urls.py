"""Hangar's URL map: every API family at its documented paths, the pages and the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    # The JSON admin routes of 001 and 000 come before Django's admin site, so they match first.
    path("", include("apps.accounts.urls")),
    path("", include("apps.accounts.urls_oauth")),
    path("", include("apps.activity.urls")),
    path("", include("apps.accounts.urls_pages")),
    path("", include("apps.core.urls")),
    path("", include("apps.workspaces.urls")),
    path("", include("apps.environments.urls")),
    path("", include("apps.notebooks.urls")),
    path("", include("apps.builds.urls")),
    path("", include("apps.deployments.urls")),
    path("", include("apps.datasets.urls")),
    path("", include("apps.jobs.urls")),
    path("", include("apps.credits.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
