"""Browser pages: sign-in, registration, email verification, sign-out, the dashboard, and the
work pages (environments, their terminals, code sessions)."""

from django.urls import path, re_path

from apps.accounts.views import pages, pages_work

# 001 owns /environments/list, /environments/heartbeat and /environments/<id>/info: the pages
# match only real environment ids, so those API routes (included after these) still answer.
ENVIRONMENT_ID = r"(?P<environment_id>env-[0-9a-f]{32})"

urlpatterns = [
    path("", pages.dashboard, name="dashboard"),
    path("login", pages.login_page, name="login"),
    path("login/oauth/<str:provider>", pages.oauth_start, name="login-oauth"),
    path("register", pages.register_page, name="register"),
    path("verify-email", pages.verify_email_page, name="verify-email"),
    path("verify-email/resend", pages.verify_email_resend, name="verify-email-resend"),
    path("logout", pages.logout_page, name="logout"),
    # Work pages
    path("environments", pages_work.environments_page, name="environments-page"),
    re_path(rf"^environments/{ENVIRONMENT_ID}$", pages_work.environment_detail_page, name="environment-page"),
    re_path(
        rf"^environments/{ENVIRONMENT_ID}/terminal$", pages_work.environment_terminal_page, name="environment-terminal"
    ),
    path("sessions", pages_work.sessions_page, name="sessions-page"),
    path("sessions/<uuid:session_uuid>", pages_work.session_page, name="session-page"),
]
