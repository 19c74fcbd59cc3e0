"""Routes of the deployments app."""

from django.urls import include, path

from apps.deployments.views import deployments

urlpatterns: list = [
    path("api/v1/deployments", deployments.DeploymentListView.as_view(), name="v1-deployments"),
    path("api/v1/deployments/<str:deployment_id>", deployments.DeploymentDetailView.as_view(), name="v1-deployment"),
    path(
        "api/v1/deployments/<str:deployment_id>/stop",
        deployments.DeploymentStopView.as_view(),
        name="v1-deployment-stop",
    ),
    path(
        "api/v1/deployments/<str:deployment_id>/redeploy",
        deployments.DeploymentRedeployView.as_view(),
        name="v1-deployment-redeploy",
    ),
    path(
        "api/v1/deployments/<str:deployment_id>/logs",
        deployments.DeploymentLogsView.as_view(),
        name="v1-deployment-logs",
    ),
    # Pipelines, repository links, webhooks and metrics.
    path("", include("apps.deployments.urls_pipelines")),
    # The browser pages: /notebooks, /notebooks/<id>, /deployments.
    path("", include("apps.deployments.urls_pages")),
]
