"""Browser pages: sign-in, registration, email verification, sign-out and the dashboard."""

from django.urls import path

from apps.accounts.views import pages

urlpatterns = [
    path("", pages.dashboard, name="dashboard"),
    path("login", pages.login_page, name="login"),
    path("login/oauth/<str:provider>", pages.oauth_start, name="login-oauth"),
    path("register", pages.register_page, name="register"),
    path("verify-email", pages.verify_email_page, name="verify-email"),
    path("verify-email/resend", pages.verify_email_resend, name="verify-email-resend"),
    path("logout", pages.logout_page, name="logout"),
]
