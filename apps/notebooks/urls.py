"""Routes of the notebooks app (000's manual flow: upload, parse, download)."""

from django.urls import path

from apps.notebooks import views

urlpatterns = [
    path("api/v1/notebooks", views.NotebookListView.as_view(), name="v1-notebooks"),
    path("api/v1/notebooks/upload", views.NotebookUploadView.as_view(), name="v1-notebooks-upload"),
    path("api/v1/notebooks/<str:notebook_id>", views.NotebookDetailView.as_view(), name="v1-notebook"),
    path("api/v1/notebooks/<str:notebook_id>/parse", views.NotebookParseView.as_view(), name="v1-notebook-parse"),
    *[
        path(
            f"api/v1/notebooks/<str:notebook_id>/download/{filename}",
            views.NotebookDownloadView.as_view(filename=filename),
            name=f"v1-notebook-download-{filename.lower().replace('.', '-')}",
        )
        for filename in ("main.py", "requirements.txt", "Dockerfile")
    ],
]
