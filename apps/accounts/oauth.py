"""Google and GitHub sign-in on django-allauth's providers, adapters and ``OAuth2Client``.

Three documented flows share this module (see the seeds' README, item 7):

* ``cmb`` (001): ``POST /auth/login`` answers an ``auth_url``; ``GET /auth/callback`` sets the
  cookies and redirects to the dashboard.
* ``automl`` (003): ``GET /api/auth/<provider>`` redirects to the provider; its callback redirects
  to ``FRONTEND_URL`` with the tokens in the fragment (and sets the cookies).
* ``browser``: the web login page's buttons; like ``automl`` but back to a same-site ``next``.

The ``state`` lives in the cache rather than the session because 001 and 003 clients are not
necessarily browsers with a session cookie. 004's ``POST /api/v1/auth/google`` verifies a Google
ID token instead (:func:`user_from_google_id_token`). Every path ends in
``services.oauth_user_get_or_create``, which matches users by verified email.
"""

import logging
import secrets
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.oauth2.client import OAuth2Client, OAuth2Error
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import MultipleObjectsReturned, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from apps.accounts import services
from apps.accounts.models import User
from apps.core.errors import ErrorCode, HangarError
from apps.core.http import safe_next

logger = logging.getLogger(__name__)

FLOWS = ("cmb", "automl", "browser")
# Flows that end in a browser with cookies; 003's front end may live on another origin.
BROWSER_FLOWS = ("cmb", "browser")
STATE_COOKIE = "hangar_oauth_state"
STATE_TTL_SECONDS = 10 * 60
_STATE_PREFIX = "oauth:state:"
_NAMES = {"google": "Google", "github": "GitHub"}
# What a provider call can raise inside allauth: HTTP errors, bad answers, bad JSON.
_PROVIDER_ERRORS = (OAuth2Error, ProviderException, requests.RequestException, KeyError, ValueError)


def _failed(detail: str, status_code: int = 400) -> HangarError:
    return HangarError(detail, error_code=ErrorCode.OAUTH_FAILED, status_code=status_code)


def _provider(request: HttpRequest, provider_id: str) -> OAuth2Provider:
    """The allauth provider with its app, or 503 when no client id and secret are configured."""
    not_configured = HangarError(
        f"{_NAMES.get(provider_id, provider_id)} sign-in is not configured on this server",
        error_code=ErrorCode.OAUTH_NOT_CONFIGURED,
        status_code=503,
    )
    try:
        provider = get_adapter(request).get_provider(request, provider_id)
    except (SocialApp.DoesNotExist, MultipleObjectsReturned):
        raise not_configured from None
    # settings.py always declares an app, with empty credentials when the env vars are unset.
    if not (provider.app.client_id and provider.app.secret):
        raise not_configured
    return provider


def callback_url(*, provider: str, flow: str) -> str:
    """Our absolute callback URL for a flow.

    It comes from ``PUBLIC_URL``, not the Host header: the provider compares it exactly with the
    registered one, and the code exchange must repeat it byte for byte.
    """
    if flow == "cmb":
        path = reverse("cmb-oauth-callback")
    else:
        path = reverse("automl-oauth-callback", kwargs={"provider": provider})
    return settings.PUBLIC_URL.rstrip("/") + path


def _client(request: HttpRequest, provider: OAuth2Provider, flow: str) -> tuple[Any, OAuth2Client]:
    """The provider's allauth adapter and an ``OAuth2Client`` pointed at our callback."""
    adapter = provider.get_oauth2_adapter(request)
    # allauth reverses its own ``<provider>_callback`` URL name, which Hangar does not mount.
    adapter.get_callback_url = lambda _request, _app: callback_url(provider=provider.id, flow=flow)
    return adapter, adapter.get_client(request, provider.app)


def authorization_url(request: HttpRequest, *, provider: str, flow: str) -> str:
    """The provider's authorize URL for ``flow``; the random ``state`` is stored in the cache.

    The state records the provider, the flow and a safe ``next`` path (from ``?next=``) for the
    callback. Raises 503 ``OAUTH_NOT_CONFIGURED`` when the provider has no credentials.
    """
    if flow not in FLOWS:
        raise ValueError(f"Unknown OAuth flow: {flow}")
    social_provider = _provider(request, provider)
    adapter, client = _client(request, social_provider, flow)
    pkce = social_provider.get_pkce_params()  # empty unless OAUTH_PKCE_ENABLED
    verifier = pkce.pop("code_verifier", None)
    state = secrets.token_urlsafe(32)
    cache.set(
        _STATE_PREFIX + state,
        {"provider": provider, "flow": flow, "next": safe_next(request.GET.get("next")), "verifier": verifier},
        timeout=STATE_TTL_SECONDS,
    )
    client.state = state
    return client.get_redirect_url(
        adapter.authorize_url, social_provider.get_scope(), {**social_provider.get_auth_params(), **pkce}
    )


def bind_state_to_browser(response: HttpResponse, auth_url: str) -> None:
    """Keep the flow's ``state`` in an HttpOnly cookie too. The callback of a browser flow then
    completes only in the browser that started it, so a callback link made by an attacker cannot
    sign a victim into the attacker's account (login CSRF)."""
    state = parse_qs(urlparse(auth_url).query).get("state", [""])[0]
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=STATE_TTL_SECONDS,
        httponly=True,
        samesite="Lax",  # Lax still travels with the provider's top-level redirect back to us
        secure=settings.JWT_COOKIE_SECURE,
    )


def peek_state(state: str | None) -> dict | None:
    """What a pending ``state`` recorded (provider, flow, next), without consuming it."""
    return cache.get(_STATE_PREFIX + state) if state else None


def _pop_state(state: str | None, provider: str) -> dict:
    data = peek_state(state)
    # delete() is True for one caller only, so a state replayed concurrently is still single use.
    if data is None or not cache.delete(_STATE_PREFIX + state) or data["provider"] != provider:
        raise _failed("Invalid OAuth state")
    return data


def complete_login(request: HttpRequest, *, provider: str, code: str, state: str) -> User:
    """Finish a redirect sign-in: check the single-use state, exchange the code, read the profile.

    Bad state or no code: 400 ``OAUTH_FAILED``. The provider failing or answering nonsense:
    502 ``OAUTH_FAILED``.
    """
    pending = _pop_state(state, provider)
    if pending["flow"] in BROWSER_FLOWS and not constant_time_compare(request.COOKIES.get(STATE_COOKIE, ""), state):
        raise _failed("This sign-in was not started in this browser")
    if not code:
        raise _failed("The provider sent no authorization code")
    social_provider = _provider(request, provider)
    adapter, client = _client(request, social_provider, pending["flow"])
    try:
        token_data = client.get_access_token(code, pkce_code_verifier=pending.get("verifier"))
        # The token came straight from the provider over TLS, so an id_token in it needs no
        # signature check (OIDC Core 3.1.3.7); allauth's own callback view does the same.
        adapter.did_fetch_access_token = True
        token = adapter.parse_token(token_data)
        login = adapter.complete_login(request, social_provider.app, token, response=token_data)
    except _PROVIDER_ERRORS as exc:
        logger.warning("%s sign-in failed at the provider: %r", provider, exc)
        raise _failed(f"{social_provider.name} did not complete the sign-in; try again", status_code=502) from exc
    return _user_from_login(request, provider, login)


def user_from_google_id_token(request: HttpRequest, token: str) -> User:
    """004's sign-in: verify a Google ID token and answer its user.

    allauth checks the signature against Google's certificates, the audience (our client id),
    the issuer and the expiry. Not configured: 503; an invalid token: 401 ``TOKEN_INVALID``;
    Google's certificates unreachable: 502.
    """
    provider = _provider(request, "google")
    try:
        login = provider.verify_token(request, {"id_token": token})
    except ValidationError as exc:
        if isinstance(exc.__cause__, requests.RequestException):
            raise _failed("Could not fetch Google's signing certificates", status_code=502) from exc
        raise HangarError("Invalid Google ID token", error_code=ErrorCode.TOKEN_INVALID, status_code=401) from exc
    return _user_from_login(request, "google", login)


def _user_from_login(request: HttpRequest, provider: str, login: SocialLogin) -> User:
    """Match or create the Hangar user for an allauth ``SocialLogin`` and stamp the sign-in."""
    # allauth sorts the addresses primary-and-verified first (GitHub's come from /user/emails).
    if not login.email_addresses:
        raise _failed("The provider did not share an email address")
    address = login.email_addresses[0]
    extra = login.account.extra_data
    user = services.oauth_user_get_or_create(
        provider=provider,
        email=address.email,
        email_verified=bool(address.verified),
        full_name=extra.get("name") or "",
        avatar_url=extra.get("picture") or extra.get("avatar_url") or "",
        login_hint=extra.get("login") or "",
    )
    services.user_mark_login(user=user, request=request, how=provider)
    return user
