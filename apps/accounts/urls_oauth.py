"""OAuth routes of 001, 003 and 004 (the views are in ``views/oauth.py``)."""

from django.urls import path, re_path

from apps.accounts.views import oauth

urlpatterns = [
    # 003 (and the web login page, with ?next=)
    path("api/auth/google", oauth.OAuthStartView.as_view(), {"provider": "google"}, name="automl-oauth-google"),
    path("api/auth/github", oauth.OAuthStartView.as_view(), {"provider": "github"}, name="automl-oauth-github"),
    re_path(
        r"^api/auth/(?P<provider>google|github)/callback$",
        oauth.OAuthCallbackView.as_view(),
        name="automl-oauth-callback",
    ),
    # 001
    path("auth/callback", oauth.OAuthCallbackView.as_view(), name="cmb-oauth-callback"),
    # 004
    path("api/v1/auth/google", oauth.GoogleIdTokenView.as_view(), name="v1-auth-google"),
]
