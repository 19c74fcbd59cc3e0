"""OpenAPI descriptions of Hangar's authentication classes, for drf-spectacular."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerJWTScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <access_token>``."""

    target_class = "apps.accounts.authentication.HangarJWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class CookieJWTScheme(OpenApiAuthenticationExtension):
    """The HttpOnly access-token cookie the browser and 001's routes use."""

    target_class = "apps.accounts.authentication.CookieJWTAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "hangar_access"}
