"""The datasets pages: ``/datasets`` (upload, list) and ``/datasets/<id>`` (profile, versions).

They only render templates; the data comes from the JSON API through ``static/js/datasets*.js``
with the HttpOnly JWT cookie and Django's CSRF token (whose cookie these views set). Another
user's (or an unknown) dataset id is a 404 before any script runs.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from apps.accounts.selectors import user_from_cookie
from apps.core.errors import NotFound
from apps.core.pages import login_redirect, render_page
from apps.datasets import selectors


@require_GET
def datasets_page(request: HttpRequest) -> HttpResponse:
    """``/datasets``: upload a file (with a real progress bar) and list the datasets."""
    if user_from_cookie(request) is None:
        return login_redirect(request)
    return render_page(request, "datasets.html")


@require_GET
def dataset_detail_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """``/datasets/<id>``: the column profile and the versions of one dataset."""
    user = user_from_cookie(request)
    if user is None:
        return login_redirect(request)
    try:
        dataset = selectors.dataset_get(user=user, dataset_id=dataset_id)
    except NotFound:
        raise Http404("Dataset not found") from None
    return render_page(request, "dataset_detail.html", {"dataset": dataset})
