"""Routes of 003's datasets API and the datasets pages."""

from django.urls import path

from apps.datasets.views import api, pages

urlpatterns = [
    path("api/datasets", api.DatasetListView.as_view(), name="datasets"),
    path("api/datasets/upload-url", api.UploadUrlView.as_view(), name="datasets-upload-url"),
    path("api/datasets/uploads/<uuid:upload_id>", api.UploadReceiveView.as_view(), name="datasets-upload"),
    path("api/datasets/confirm", api.ConfirmView.as_view(), name="datasets-confirm"),
    path("api/datasets/jobs/<uuid:job_id>", api.IngestionJobView.as_view(), name="datasets-job"),
    path("api/datasets/<int:dataset_id>", api.DatasetDetailView.as_view(), name="dataset"),
    path("datasets", pages.datasets_page, name="datasets-page"),
    path("datasets/<int:dataset_id>", pages.dataset_detail_page, name="dataset-page"),
]
