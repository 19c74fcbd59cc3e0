"""The datasets pages: ``/datasets`` (upload, list) and ``/datasets/<id>`` (profile, versions).

They only render templates; the data comes from the JSON API through ``static/js/datasets*.js``
with the HttpOnly JWT cookie and Django's CSRF token (whose cookie these views set). Another
user's (or an unknown) dataset id is a 404 before any script runs.
"""

from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from apps.accounts.selectors import user_from_cookie
from apps.core.errors import NotFound
from apps.datasets import selectors


def _page(request: HttpRequest, template: str, context: dict | None = None) -> HttpResponse:
    get_token(request)
    response = render(request, template, context or {})
    patch_vary_headers(response, ["Cookie"])
    response["Cache-Control"] = "private, no-store"
    return response


def _login_redirect(request: HttpRequest) -> HttpResponse:
    return redirect(f"{settings.LOGIN_URL}?next={quote(request.get_full_path())}")


@require_GET
def datasets_page(request: HttpRequest) -> HttpResponse:
    """``/datasets``: upload a file (with a real progress bar) and list the datasets."""
    if user_from_cookie(request) is None:
        return _login_redirect(request)
    return _page(request, "datasets.html")


@require_GET
def dataset_detail_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """``/datasets/<id>``: the column profile and the versions of one dataset."""
    user = user_from_cookie(request)
    if user is None:
        return _login_redirect(request)
    try:
        dataset = selectors.dataset_get(user=user, dataset_id=dataset_id)
    except NotFound:
        raise Http404("Dataset not found") from None
    return _page(request, "dataset_detail.html", {"dataset": dataset})
