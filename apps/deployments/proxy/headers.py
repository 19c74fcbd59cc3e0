"""Header handling of the app proxy: what is forwarded, what is added, and what is rewritten.

Deployed apps share Hangar's origin, so Hangar's own cookies (the JWT, the session, the CSRF
token) are never forwarded to them, and an app may not set cookies with those names.
"""

from http.cookies import SimpleCookie
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

# RFC 9110 hop-by-hop headers, plus those the proxy sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
WEBSOCKET_HANDSHAKE = frozenset(
    {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"}
)
FORWARDED = frozenset({"x-forwarded-prefix", "x-forwarded-host", "x-forwarded-proto"})


def hangar_cookie_names() -> frozenset[str]:
    """Cookies that carry a Hangar sign-in or CSRF token."""
    return frozenset(
        {
            settings.JWT_ACCESS_COOKIE,
            settings.JWT_REFRESH_COOKIE,
            settings.SESSION_COOKIE_NAME,
            settings.CSRF_COOKIE_NAME,
        }
    )


def strip_hangar_cookies(cookie_header: str, hidden: frozenset[str]) -> str:
    """The ``Cookie`` header without Hangar's own cookies."""
    kept = []
    for part in cookie_header.split(";"):
        name = part.split("=", 1)[0].strip()
        if name and name not in hidden:
            kept.append(part.strip())
    return "; ".join(kept)


def sets_hangar_cookie(set_cookie: str, hidden: frozenset[str]) -> bool:
    """Whether an app's ``Set-Cookie`` would overwrite one of Hangar's cookies."""
    name = set_cookie.split("=", 1)[0].strip()
    if name in hidden:
        return True
    try:
        return any(key in hidden for key in SimpleCookie(set_cookie))
    except Exception:  # an unparsable cookie is the app's problem, not ours
        return False


def upstream_headers(
    scope: dict, *, prefix: str, websocket: bool = False, hidden: frozenset[str] = frozenset()
) -> tuple[list[tuple[str, str]], str]:
    """The headers to send the app (with ``X-Forwarded-*``), and the request's original host."""
    headers: list[tuple[str, str]] = []
    host = ""
    forwarded_for = ""
    connection_tokens: set[str] = set()
    for raw_name, raw_value in scope["headers"]:
        if raw_name.lower() == b"connection":
            connection_tokens |= {token.strip().lower() for token in raw_value.decode("latin-1").split(",")}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in HOP_BY_HOP or name in connection_tokens or name in FORWARDED:
            continue
        if websocket and name in WEBSOCKET_HANDSHAKE:
            continue
        if name == "host":
            host = value
        elif name == "x-forwarded-for":
            forwarded_for = value
            continue
        elif name == "cookie":
            value = strip_hangar_cookies(value, hidden)
            if not value:
                continue
        headers.append((name, value))
    client = scope.get("client")
    client_ip = client[0] if client else ""
    if client_ip:
        forwarded_for = f"{forwarded_for}, {client_ip}" if forwarded_for else client_ip
    if forwarded_for:
        headers.append(("x-forwarded-for", forwarded_for))
    if host:
        headers.append(("x-forwarded-host", host))
    scheme = scope.get("scheme") or ("ws" if websocket else "http")
    headers.append(("x-forwarded-proto", {"ws": "http", "wss": "https"}.get(scheme, scheme)))
    headers.append(("x-forwarded-prefix", prefix.rstrip("/")))
    return headers, host


def rewrite_location(location: str, *, prefix: str, target: str, host: str) -> str:
    """A redirect's ``Location`` made to point under ``/apps/<service_name>/``.

    Absolute paths get the prefix; absolute URLs to the app's own address or to the request's
    host are rewritten the same way; anything else (another site) is left alone.
    """
    parts = urlsplit(location)
    base = prefix.rstrip("/")
    if parts.scheme and parts.netloc:
        upstream = urlsplit(target)
        if parts.netloc == upstream.netloc:
            path = parts.path or "/"
            path = path if path == base or path.startswith(prefix) else base + path
            return urlunsplit(("", "", path, parts.query, parts.fragment))
        if host and parts.netloc == host:
            path = parts.path or "/"
            path = path if path == base or path.startswith(prefix) else base + path
            return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))
        return location
    if location.startswith("/") and not location.startswith("//"):
        if location == base or location.startswith(prefix):
            return location
        return base + location
    return location
