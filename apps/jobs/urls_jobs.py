"""Routes of 003's jobs and workflow execution, and the workflow and job pages."""

from django.urls import path

from apps.jobs.views import jobs, pages

urlpatterns = [
    path("api/workflows/execute", jobs.WorkflowExecuteView.as_view(), name="workflows-execute"),
    path("api/workflows/<str:job_id>/status", jobs.WorkflowStatusView.as_view(), name="workflows-status"),
    path("api/workflows/<str:job_id>/cancel", jobs.JobCancelView.as_view(), name="workflows-cancel"),
    path("api/jobs", jobs.JobListView.as_view(), name="jobs"),
    # Before api/jobs/<id>, which would otherwise take "stats" for an id.
    path("api/jobs/stats", jobs.JobStatsView.as_view(), name="jobs-stats"),
    path("api/jobs/<str:job_id>", jobs.JobDetailView.as_view(), name="job"),
    path("api/jobs/<str:job_id>/cancel", jobs.JobCancelView.as_view(), name="job-cancel"),
    path("api/jobs/<str:job_id>/retry", jobs.JobRetryView.as_view(), name="job-retry"),
    path("api/jobs/<str:job_id>/logs", jobs.JobLogsView.as_view(), name="job-logs"),
    path("api/jobs/<str:job_id>/plots/<str:name>.png", jobs.JobPlotView.as_view(), name="job-plot"),
    path(
        "api/jobs/<str:job_id>/models/<str:node_id>/download",
        jobs.JobModelDownloadView.as_view(),
        name="job-model-download",
    ),
    path("workflows", pages.workflows_page, name="workflows-page"),
    path("jobs", pages.jobs_page, name="jobs-page"),
    path("jobs/<uuid:job_id>", pages.job_page, name="job-page"),
]
