"""Routes of pipelines, repository links, webhooks and metrics (000)."""

from django.urls import path

from apps.deployments.views import metrics, pipelines, repository_links, webhooks

urlpatterns = [
    path("api/v1/pipeline/deploy", pipelines.PipelineDeployView.as_view(), name="pipeline-deploy"),
    path("api/v1/pipeline/status/<str:pipeline_id>", pipelines.PipelineStatusView.as_view(), name="pipeline-status"),
    path("api/v1/pipeline/history", pipelines.PipelineHistoryView.as_view(), name="pipeline-history"),
    path(
        "api/v1/notebooks/<int:notebook_id>/repository",
        repository_links.NotebookRepositoryView.as_view(),
        name="notebook-repository",
    ),
    path("api/v1/repositories", repository_links.RepositoryLinkListView.as_view(), name="repository-links"),
    path("api/v1/webhooks/github", webhooks.GitHubWebhookView.as_view(), name="webhook-github"),
    path("api/v1/webhooks/gitlab", webhooks.GitLabWebhookView.as_view(), name="webhook-gitlab"),
    path("api/v1/metrics/builds", metrics.BuildMetricsView.as_view(), name="metrics-builds"),
    path("api/v1/metrics/deployments", metrics.DeploymentMetricsView.as_view(), name="metrics-deployments"),
    path("api/v1/metrics/activity", metrics.ActivityMetricsView.as_view(), name="metrics-activity"),
    path("api/v1/metrics/timeseries/builds", metrics.BuildTimeseriesView.as_view(), name="metrics-timeseries-builds"),
    path(
        "api/v1/metrics/timeseries/deployments",
        metrics.DeploymentTimeseriesView.as_view(),
        name="metrics-timeseries-deployments",
    ),
]
