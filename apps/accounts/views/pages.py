"""Server-rendered pages: sign-in, registration, email verification, sign-out and the dashboard.

Plain Django views with Django's CSRF protection. Every write goes through ``apps.accounts.services``;
the JWT cookies they set are the same ones the API and the WebSockets read.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.exceptions import ValidationError

from apps.accounts import oauth, services
from apps.accounts.models import User
from apps.accounts.selectors import user_from_cookie
from apps.accounts.serializers import RegisterInput
from apps.accounts.tokens import clear_auth_cookies, set_auth_cookies, tokens_for, valid_access_token
from apps.activity.selectors import activity_for_user
from apps.core import views as core_views
from apps.core.errors import ErrorCode, HangarError
from apps.core.http import safe_next, wants_html
from apps.core.ratelimit import check_rate

OAUTH_PROVIDERS = {"google": "Google", "github": "GitHub"}
REGISTER_FIELDS = ("username", "email", "full_name")
# The OAuth callback sends a browser that failed to ``/login?error=<error_code>``.
OAUTH_ERRORS = {
    ErrorCode.OAUTH_FAILED: "Signing in with the provider failed. Please try again.",
    ErrorCode.OAUTH_NOT_CONFIGURED: "That sign-in provider is not configured on this Hangar.",
    ErrorCode.ACCOUNT_DISABLED: "Account is disabled",
}


def _safe_next(request: HttpRequest) -> str:
    return safe_next(request.POST.get("next") or request.GET.get("next"))


def _signed_in(user: User, to: str) -> HttpResponseRedirect:
    """A redirect carrying a fresh JWT pair in the browser cookies."""
    response = redirect(to)
    set_auth_cookies(response, tokens_for(user))
    return response


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A DRF ValidationError's messages by field, as plain strings for the template."""
    detail = exc.detail if isinstance(exc.detail, dict) else {"__all__": exc.detail}
    return {field: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])] for field, msgs in detail.items()}


@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    """``/login``: username or email and password; sets the JWT cookies and follows ``next``."""
    if user_from_cookie(request):
        return redirect("/")
    context = {"next": _safe_next(request), "identifier": request.POST.get("identifier", "")}
    if request.method == "GET":
        return render(request, "login.html", {**context, "error": OAUTH_ERRORS.get(request.GET.get("error"), "")})
    try:
        user = services.user_login(
            identifier=context["identifier"], password=request.POST.get("password", ""), request=request
        )
    except HangarError as exc:
        return render(request, "login.html", {**context, "error": str(exc.detail)}, status=exc.status_code)
    return _signed_in(user, context["next"])


@require_http_methods(["GET", "POST"])
def register_page(request: HttpRequest) -> HttpResponse:
    """``/register``: create the account, sign it in and show the check-your-inbox page."""
    if user_from_cookie(request):
        return redirect("/")
    values = {field: request.POST.get(field, "") for field in REGISTER_FIELDS}
    if request.method == "GET":
        return render(request, "register.html", {"values": values})
    # The API's serializer checks the field formats (username rule, email) the services assume.
    form = RegisterInput(data={**values, "password": request.POST.get("password", "")})
    try:
        form.is_valid(raise_exception=True)
        user = services.user_register(**form.validated_data, request=request)
    except ValidationError as exc:
        return _register_error(request, values, errors=_field_errors(exc))
    except HangarError as exc:
        return _register_error(request, values, error=str(exc.detail))
    return _signed_in(user, "/verify-email")


def _register_error(request: HttpRequest, values: dict, *, errors: dict | None = None, error: str = "") -> HttpResponse:
    # Any rejected form (format, weak password, duplicate) is a 400 for the page, like a form error.
    errors = errors or {}
    context = {"values": values, "errors": errors, "error": error or " ".join(errors.pop("__all__", []))}
    return render(request, "register.html", context, status=400)


@require_GET
def verify_email_page(request: HttpRequest) -> HttpResponse:
    """``/verify-email``: with ``?token=`` confirm the address; without, the check-your-inbox page."""
    token = request.GET.get("token")
    if token is not None:
        try:
            user = services.email_verify(token=token, request=request)
        except HangarError as exc:
            return render(request, "verify_email.html", {"state": "error", "error": str(exc.detail)}, status=400)
        return render(request, "verify_email.html", {"state": "verified", "email": user.email})
    user = user_from_cookie(request)
    if user is None:
        return redirect(f"{settings.LOGIN_URL}?next=/verify-email")
    state = "verified" if user.is_verified else "pending"
    return render(request, "verify_email.html", {"state": state, "email": user.email})


@require_POST
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    """``POST /verify-email/resend``: send the link again, under the API's per-user limit."""
    user = user_from_cookie(request)
    if user is None:
        return redirect(f"{settings.LOGIN_URL}?next=/verify-email")
    if user.is_verified:
        messages.info(request, "Your email address is already verified.")
        return redirect("/verify-email")
    # Same scope and key as the API's resend route, so the page is no way around its limit.
    usage = check_rate(request, "resend_verification", key=lambda _req: f"user:{user.pk}")
    if usage and usage["should_limit"]:
        messages.error(request, "Too many emails sent. Try again later.")
    else:
        services.email_verification_send(user=user)
        messages.success(request, f"We sent a new link to {user.email}.")
    return redirect("/verify-email")


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    """``POST /logout``: blacklist the refresh token, revoke the access token, clear the cookies."""
    user = user_from_cookie(request)
    if user is not None:
        services.user_logout(
            user=user,
            refresh=request.COOKIES.get(settings.JWT_REFRESH_COOKIE),
            access=valid_access_token(request.COOKIES.get(settings.JWT_ACCESS_COOKIE)),
            request=request,
        )
        messages.info(request, "You have been signed out.")
    response = redirect(settings.LOGIN_URL)
    clear_auth_cookies(response)
    return response


@require_GET
def oauth_start(request: HttpRequest, provider: str) -> HttpResponse:
    """``/login/oauth/<provider>``: off to Google or GitHub, or back to /login saying why not."""
    if provider not in OAUTH_PROVIDERS:
        raise Http404
    try:
        url = oauth.authorization_url(request, provider=provider, flow="browser")
    except HangarError as exc:
        if exc.error_code == ErrorCode.OAUTH_NOT_CONFIGURED:
            messages.error(request, f"{OAUTH_PROVIDERS[provider]} sign-in is not configured on this Hangar")
        else:
            messages.error(request, str(exc.detail))
        return redirect(settings.LOGIN_URL)
    response = redirect(url)
    oauth.bind_state_to_browser(response, url)
    return response


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """``/`` for browsers: the landing page, or the signed-in user's dashboard and recent activity.

    API clients keep getting the JSON service information from ``apps.core.views.root``.
    """
    if not wants_html(request):
        response = core_views.root(request)
    else:
        user = user_from_cookie(request)
        activities = activity_for_user(user=user, limit=10) if user else []
        response = render(request, "dashboard.html", {"activities": activities})
    # One URL, two representations: caches must key on what was asked for and by whom.
    patch_vary_headers(response, ["Accept", "Cookie"])
    return response
