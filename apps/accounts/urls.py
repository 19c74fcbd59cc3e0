"""Every family's auth and IAM routes (OAuth routes are in ``urls_oauth.py``)."""

from django.urls import path

from apps.accounts.views import admin_api, automl, cmb, exec_users, v1

urlpatterns = [
    # 000 and 004
    path("api/v1/auth/register", v1.RegisterView.as_view(), name="v1-register"),
    path("api/v1/auth/login", v1.LoginView.as_view(), name="v1-login"),
    path("api/v1/auth/refresh", v1.RefreshView.as_view(), name="v1-refresh"),
    path("api/v1/auth/me", v1.MeView.as_view(), name="v1-me"),
    path("api/v1/auth/logout", v1.LogoutView.as_view(), name="v1-logout"),
    path("api/v1/auth/verify-email", v1.VerifyEmailView.as_view(), name="v1-verify-email"),
    path("api/v1/auth/resend-verification", v1.ResendVerificationView.as_view(), name="v1-resend-verification"),
    path("api/v1/admin/users", admin_api.AdminUsersView.as_view(), name="v1-admin-users"),
    path("api/v1/admin/users/<int:user_id>", admin_api.AdminUserDetailView.as_view(), name="v1-admin-user"),
    path("api/v1/admin/roles", admin_api.AdminRolesView.as_view(), name="v1-admin-roles"),
    path("api/v1/admin/roles/assign", admin_api.AdminRoleAssignView.as_view(), name="v1-admin-roles-assign"),
    path("api/v1/admin/init-roles", admin_api.AdminInitRolesView.as_view(), name="v1-admin-init-roles"),
    # 002
    path("api/users/register", exec_users.ExecRegisterView.as_view(), name="exec-register"),
    path("api/users/login", exec_users.ExecLoginView.as_view(), name="exec-login"),
    # 003
    path("api/auth/refresh", automl.AutomlRefreshView.as_view(), name="automl-refresh"),
    path("api/auth/logout", automl.AutomlLogoutView.as_view(), name="automl-logout"),
    path("api/auth/me", automl.AutomlMeView.as_view(), name="automl-me"),
    path("api/auth/dev-login", automl.DevLoginView.as_view(), name="automl-dev-login"),
    # 001
    path("auth/login", cmb.CmbLoginView.as_view(), name="cmb-login"),
    path("auth/logout", cmb.CmbLogoutView.as_view(), name="cmb-logout"),
    path("users/me", cmb.CmbMeView.as_view(), name="cmb-me"),
    path("admin/users", cmb.CmbAdminUsersView.as_view(), name="cmb-admin-users"),
]
