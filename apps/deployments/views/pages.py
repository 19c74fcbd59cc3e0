"""Server-rendered pages of notebooks-to-apps: ``/notebooks``, ``/notebooks/<id>`` and ``/deployments``.

Like the environment pages, these views check who is signed in (and, for one notebook, that it is
theirs: another user's or an unknown id is a 404 before any script runs) and render a template.
The live data reaches the page from the JSON API (``/api/v1/pipeline/*``, ``/api/v1/notebooks/*``,
``/api/v1/builds/*``, ``/api/v1/deployments*``, ``/api/v1/repositories`` and the pipeline and build
log WebSockets) through the ES modules in ``static/js``, authenticated by the HttpOnly JWT cookie;
unsafe calls carry Django's CSRF token, whose cookie ``_page`` sets.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from apps.accounts.selectors import user_from_cookie
from apps.builds.selectors import build_list
from apps.core.errors import NotFound
from apps.core.pages import login_redirect, render_page
from apps.deployments.models import Deployment
from apps.deployments.selectors import deployment_list
from apps.notebooks.models import Notebook
from apps.notebooks.selectors import notebook_get, notebook_list

# What a one-click deploy asks for unless the user changes it (000's documented defaults).
DEPLOY_DEFAULTS = {"cpu": "1", "memory": "512Mi", "min_instances": 0, "max_instances": 10}
CPU_CHOICES = ("0.5", "1", "2", "4")
MEMORY_CHOICES = ("256Mi", "512Mi", "1Gi", "2Gi", "4Gi")
# The notebook page shows the latest builds and revisions; older ones stay in the API.
RECENT = 20


def _notebook_or_404(user, notebook_id: int) -> Notebook:
    try:
        return notebook_get(user=user, notebook_id=notebook_id)
    except NotFound:
        raise Http404("Notebook not found") from None


@require_GET
def notebooks_page(request: HttpRequest) -> HttpResponse:
    """``/notebooks``: drop a notebook and deploy it in one click, watch the pipeline, see the history."""
    if user_from_cookie(request) is None:
        return login_redirect(request)
    context = {"defaults": DEPLOY_DEFAULTS, "cpu_choices": CPU_CHOICES, "memory_choices": MEMORY_CHOICES}
    return render_page(request, "notebooks.html", context)


@require_GET
def notebook_detail_page(request: HttpRequest, notebook_id: int) -> HttpResponse:
    """``/notebooks/<id>``: what parsing found, the builds and deployments, the repository link."""
    user = user_from_cookie(request)
    if user is None:
        return login_redirect(request)
    notebook = _notebook_or_404(user, notebook_id)
    deployments = list(deployment_list(user=user, notebook_id=notebook.pk)[:RECENT])
    context = {
        "notebook": notebook,
        "builds": build_list(user=user, notebook_id=notebook.pk)[:RECENT],
        "deployments": deployments,
        # The newest revision that serves: a redeploy in progress does not hide the app.
        "live": next((d for d in deployments if d.status == Deployment.Status.DEPLOYED and d.service_url), None),
    }
    return render_page(request, "notebooks_detail.html", context)


@require_GET
def deployments_page(request: HttpRequest) -> HttpResponse:
    """``/deployments``: the user's deployed apps with Open, Stop, Redeploy and their logs."""
    user = user_from_cookie(request)
    if user is None:
        return login_redirect(request)
    # The deployments API answers notebook ids; the page shows their names.
    names = {str(pk): name for pk, name in notebook_list(user=user).values_list("pk", "name")}
    return render_page(request, "deployments.html", {"notebook_names": names})
