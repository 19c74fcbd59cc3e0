"""Routes of 004 (templates, environments, clusters) and 001 (environments, env vars, files)."""

from django.urls import path

from apps.environments.views import clusters, cmb, env_vars, environments, files, templates

urlpatterns = [
    # 004: templates
    path("api/v1/templates", templates.TemplateListView.as_view(), name="v1-templates"),
    path("api/v1/templates/initialize", templates.TemplateInitializeView.as_view(), name="v1-templates-initialize"),
    path("api/v1/templates/<str:template_id>", templates.TemplateDetailView.as_view(), name="v1-template"),
    # 004: environments
    path("api/v1/environments", environments.EnvironmentListView.as_view(), name="v1-environments"),
    path(
        "api/v1/environments/<str:environment_id>", environments.EnvironmentDetailView.as_view(), name="v1-environment"
    ),
    path(
        "api/v1/environments/<str:environment_id>/start",
        environments.EnvironmentStartView.as_view(),
        name="v1-environment-start",
    ),
    path(
        "api/v1/environments/<str:environment_id>/stop",
        environments.EnvironmentStopView.as_view(),
        name="v1-environment-stop",
    ),
    path(
        "api/v1/environments/<str:environment_id>/restart",
        environments.EnvironmentRestartView.as_view(),
        name="v1-environment-restart",
    ),
    path(
        "api/v1/environments/<str:environment_id>/metrics",
        environments.EnvironmentMetricsView.as_view(),
        name="v1-environment-metrics",
    ),
    path(
        "api/v1/environments/<str:environment_id>/logs",
        environments.EnvironmentLogsView.as_view(),
        name="v1-environment-logs",
    ),
    # 004: clusters (admin)
    path("api/v1/clusters", clusters.ClusterListView.as_view(), name="v1-clusters"),
    path("api/v1/clusters/regions", clusters.ClusterRegionsView.as_view(), name="v1-cluster-regions"),
    path("api/v1/clusters/<str:cluster_id>", clusters.ClusterDetailView.as_view(), name="v1-cluster"),
    path("api/v1/clusters/<str:cluster_id>/health", clusters.ClusterHealthView.as_view(), name="v1-cluster-health"),
    # 001: environments
    path("environments", cmb.CmbEnvironmentsView.as_view(), name="cmb-environments"),
    path("environments/list", cmb.CmbEnvironmentListView.as_view(), name="cmb-environments-list"),
    path("environments/heartbeat", cmb.CmbHeartbeatView.as_view(), name="cmb-environments-heartbeat"),
    path("environments/<str:env_id>/info", cmb.CmbEnvironmentInfoView.as_view(), name="cmb-environment-info"),
    path("admin/environments", cmb.CmbAdminEnvironmentsView.as_view(), name="cmb-admin-environments"),
    # 001: user environment variables and files
    path("user-env-vars", env_vars.UserEnvVarListView.as_view(), name="cmb-env-vars"),
    path("user-env-vars/<str:key>", env_vars.UserEnvVarDetailView.as_view(), name="cmb-env-var"),
    path("user-files", files.UserFileListView.as_view(), name="cmb-files"),
    path("user-files/upload", files.UserFileUploadView.as_view(), name="cmb-files-upload"),
    path("user-files/<str:filename>", files.UserFileDetailView.as_view(), name="cmb-file"),
]
