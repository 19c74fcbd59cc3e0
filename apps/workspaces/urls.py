"""002's session, workspace and shutdown routes."""

from django.urls import path

from apps.workspaces import views

urlpatterns = [
    path("api/sessions/", views.SessionListCreateView.as_view(), name="exec-sessions"),
    # Aliases without (or with) the trailing slash, left out of the OpenAPI schema.
    path("api/sessions", views.SessionListCreateView.as_view(schema=None)),
    path("api/sessions/<uuid:session_uuid>", views.SessionDetailView.as_view(), name="exec-session"),
    path("api/sessions/<uuid:session_uuid>/", views.SessionDetailView.as_view(schema=None)),
    path("api/workspace/<uuid:session_uuid>/files", views.WorkspaceFilesView.as_view(), name="exec-workspace-files"),
    path(
        "api/workspace/<uuid:session_uuid>/file/<path:filename>",
        views.WorkspaceFileView.as_view(),
        name="exec-workspace-file",
    ),
    path("api/workspace/<uuid:session_uuid>/status", views.WorkspaceStatusView.as_view(), name="exec-workspace-status"),
    path(
        "api/workspace/<uuid:session_uuid>/ensure-default",
        views.WorkspaceEnsureDefaultView.as_view(),
        name="exec-workspace-ensure-default",
    ),
    path("workspace/<uuid:workspace_id>/shutdown", views.WorkspaceShutdownView.as_view(), name="exec-shutdown"),
]
