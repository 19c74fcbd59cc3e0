"""The AutoML pages: ``/workflows`` (the builder), ``/jobs`` and ``/jobs/<id>``.

They only render templates; the data comes from the JSON API and the job's WebSocket through
``static/js/workflow_builder.js`` and ``static/js/job.js``, authenticated by the HttpOnly JWT cookie
(unsafe calls carry Django's CSRF token, whose cookie these views set). Another user's job is a 404
before any script runs.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from apps.accounts.selectors import user_from_cookie
from apps.core.errors import NotFound
from apps.core.pages import login_redirect, render_page
from apps.jobs import selectors


def _page(request: HttpRequest, template: str, context: dict | None = None) -> HttpResponse:
    if user_from_cookie(request) is None:
        return login_redirect(request)
    return render_page(request, template, context)


@require_GET
def workflows_page(request: HttpRequest) -> HttpResponse:
    """The workflow builder."""
    return _page(request, "workflows.html")


@require_GET
def jobs_page(request: HttpRequest) -> HttpResponse:
    """The caller's jobs."""
    return _page(request, "jobs.html")


@require_GET
def job_page(request: HttpRequest, job_id) -> HttpResponse:
    """One job, live over its WebSocket."""
    user = user_from_cookie(request)
    if user is not None:
        try:
            selectors.job_get(user=user, job_id=job_id)
        except NotFound:
            raise Http404("Job not found") from None
    return _page(request, "job.html", {"job_id": str(job_id)})
