"""Server-rendered pages of notebooks-to-apps: ``/notebooks``, ``/notebooks/<id>`` and ``/deployments``.

Like the environment pages, these views only check who is signed in (and, for one notebook, that
it is theirs: another user's or an unknown id is a 404 before any script runs) and render a
template. The data reaches the page from the JSON API (``/api/v1/pipeline/*``,
``/api/v1/notebooks/*``, ``/api/v1/builds/*``, ``/api/v1/deployments*`` and their WebSockets)
through the ES modules in ``static/js``, authenticated by the HttpOnly JWT cookie; unsafe calls
carry Django's CSRF token, whose cookie ``_page`` sets.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from apps.accounts.selectors import user_from_cookie
from apps.accounts.views.pages_work import _login_redirect, _page
from apps.notebooks.models import Notebook

# The resources a one-click deploy asks for unless the user changes them (000's documented defaults).
DEPLOY_DEFAULTS = {"cpu": "1", "memory": "512Mi", "min_instances": 0, "max_instances": 10}
CPU_CHOICES = ("0.5", "1", "2", "4")
MEMORY_CHOICES = ("256Mi", "512Mi", "1Gi", "2Gi", "4Gi")


def _notebook_or_404(user, notebook_id: int) -> Notebook:
    """The signed-in user's notebook, or 404 (another user's notebook does not exist for them)."""
    notebook = Notebook.objects.filter(owner=user, pk=notebook_id).first()
    if notebook is None:
        raise Http404("Notebook not found")
    return notebook


@require_GET
def notebooks_page(request: HttpRequest) -> HttpResponse:
    """``/notebooks``: drop a notebook and deploy it in one click, watch the pipeline, see the history."""
    if user_from_cookie(request) is None:
        return _login_redirect(request)
    context = {"defaults": DEPLOY_DEFAULTS, "cpu_choices": CPU_CHOICES, "memory_choices": MEMORY_CHOICES}
    return _page(request, "notebooks.html", context)


@require_GET
def notebook_detail_page(request: HttpRequest, notebook_id: int) -> HttpResponse:
    """``/notebooks/<id>``: what parsing found, the builds and deployments, the repository links."""
    user = user_from_cookie(request)
    if user is None:
        return _login_redirect(request)
    notebook = _notebook_or_404(user, notebook_id)
    context = {
        "notebook": notebook,
        "builds": notebook.builds.all()[:20],
        "deployments": notebook.deployments.all()[:20],
    }
    return _page(request, "notebooks_detail.html", context)


@require_GET
def deployments_page(request: HttpRequest) -> HttpResponse:
    """``/deployments``: the user's deployed apps with Open, Stop, Redeploy and their logs."""
    if user_from_cookie(request) is None:
        return _login_redirect(request)
    return _page(request, "deployments.html")
