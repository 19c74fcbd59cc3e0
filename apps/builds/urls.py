"""Routes of the builds app (000)."""

from django.urls import path

from apps.builds import views

urlpatterns = [
    path("api/v1/builds", views.BuildListView.as_view(), name="v1-builds"),
    path("api/v1/builds/trigger/<str:notebook_id>", views.BuildTriggerView.as_view(), name="v1-build-trigger"),
    path("api/v1/builds/<str:build_ref>", views.BuildDetailView.as_view(), name="v1-build"),
    path("api/v1/builds/<str:build_ref>/logs", views.BuildLogsView.as_view(), name="v1-build-logs"),
]
