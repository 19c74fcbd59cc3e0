"""Routes of the notebooks app (000's manual flow: upload, parse, download)."""

from django.urls import path

from apps.notebooks import views

urlpatterns = [
    path("api/v1/notebooks", views.NotebookListView.as_view(), name="v1-notebooks"),
    path("api/v1/notebooks/upload", views.NotebookUploadView.as_view(), name="v1-notebooks-upload"),
    path("api/v1/notebooks/<str:notebook_id>", views.NotebookDetailView.as_view(), name="v1-notebook"),
    path("api/v1/notebooks/<str:notebook_id>/parse", views.NotebookParseView.as_view(), name="v1-notebook-parse"),
    path(
        "api/v1/notebooks/<str:notebook_id>/download/main.py",
        views.NotebookMainPyView.as_view(),
        name="v1-notebook-download-main-py",
    ),
    path(
        "api/v1/notebooks/<str:notebook_id>/download/requirements.txt",
        views.NotebookRequirementsView.as_view(),
        name="v1-notebook-download-requirements-txt",
    ),
    path(
        "api/v1/notebooks/<str:notebook_id>/download/Dockerfile",
        views.NotebookDockerfileView.as_view(),
        name="v1-notebook-download-dockerfile",
    ),
]
