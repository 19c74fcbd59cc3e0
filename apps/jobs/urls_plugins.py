"""Routes of 003's plugin catalogue (``/api/plugins/*``) and workflow validation."""

from django.urls import path

from apps.jobs.views import plugins, workflow_validate

urlpatterns = [
    path("api/plugins", plugins.PluginCatalogueView.as_view(), name="plugins"),
    path("api/plugins/models", plugins.ModelListView.as_view(), name="plugins-models"),
    path("api/plugins/models/<str:slug>", plugins.ModelDetailView.as_view(), name="plugins-model"),
    path("api/plugins/preprocessing", plugins.PreprocessingListView.as_view(), name="plugins-preprocessing"),
    path(
        "api/plugins/preprocessing/categories",
        plugins.PreprocessingCategoriesView.as_view(),
        name="plugins-preprocessing-categories",
    ),
    path(
        "api/plugins/preprocessing/<str:slug>",
        plugins.PreprocessingDetailView.as_view(),
        name="plugins-preprocessing-detail",
    ),
    path("api/plugins/metrics", plugins.MetricListView.as_view(), name="plugins-metrics"),
    path("api/plugins/plots", plugins.PlotListView.as_view(), name="plugins-plots"),
    path("api/workflows/validate", workflow_validate.WorkflowValidateView.as_view(), name="workflows-validate"),
]
