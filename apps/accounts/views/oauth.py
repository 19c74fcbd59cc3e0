"""OAuth routes: 003's redirects and callbacks, 001's callback, 004's Google ID-token sign-in.

The logic lives in ``apps.accounts.oauth``; these views only read the request and shape the answer.
"""

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.http import urlencode
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import oauth
from apps.accounts.models import User
from apps.accounts.serializers import GoogleTokenInput, TokenPairOutput
from apps.accounts.tokens import set_auth_cookies, tokens_for
from apps.accounts.views.common import token_response, validated
from apps.core.errors import ErrorCode, HangarError


class OAuthStartView(APIView):
    """003: redirect to Google or GitHub. A ``?next=`` marks the web login page's flow."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={302: None})
    def get(self, request: Request, provider: str) -> HttpResponse:
        flow = "browser" if "next" in request.GET else "automl"
        url = oauth.authorization_url(request, provider=provider, flow=flow)
        response = HttpResponseRedirect(url)
        if flow in oauth.BROWSER_FLOWS:
            oauth.bind_state_to_browser(response, url)
        return response


class OAuthCallbackView(APIView):
    """The provider's redirect back: 003's ``/api/auth/<provider>/callback`` and 001's
    ``/auth/callback`` (where the stored state names the provider).

    A browser (``Accept: text/html``) that fails lands on ``/login?error=<code>``; API clients
    get the JSON error.
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={302: None})
    def get(self, request: Request, provider: str | None = None) -> HttpResponse:
        if error := request.GET.get("error"):
            raise HangarError(f"The provider refused the sign-in: {error}", error_code=ErrorCode.OAUTH_FAILED)
        state = request.GET.get("state", "")
        pending = oauth.peek_state(state) or {}
        provider = provider or pending.get("provider", "google")
        user = oauth.complete_login(request, provider=provider, code=request.GET.get("code", ""), state=state)
        return _signed_in_redirect(user, pending)

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, HangarError) and "text/html" in self.request.headers.get("Accept", ""):
            return HttpResponseRedirect("/login?" + urlencode({"error": exc.error_code}))
        return super().handle_exception(exc)


def _signed_in_redirect(user: User, pending: dict) -> HttpResponse:
    """Where each flow lands after sign-in, always with the JWT cookies set."""
    pair = tokens_for(user)
    if pending["flow"] == "cmb":
        url = "/"  # 001: "Redirects to dashboard with JWT token in secure cookie."
    elif pending["flow"] == "automl":
        # 003's front end reads the tokens from the fragment, which never reaches a server log.
        fragment = urlencode({"access_token": pair.access, "refresh_token": pair.refresh, "token_type": "bearer"})
        url = f"{settings.FRONTEND_URL}#{fragment}"
    else:
        url = pending["next"]
    response = HttpResponseRedirect(url)
    set_auth_cookies(response, pair)
    response.delete_cookie(oauth.STATE_COOKIE, samesite="Lax")
    return response


class GoogleIdTokenView(APIView):
    """004: trade a Google ID token (``token``, ``id_token`` or ``credential``) for Hangar tokens."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=GoogleTokenInput, responses=TokenPairOutput)
    def post(self, request: Request) -> Response:
        token = validated(GoogleTokenInput, request)["token"]
        user = oauth.user_from_google_id_token(request, token)
        return token_response(user)
