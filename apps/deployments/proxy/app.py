"""The ASGI app that carries ``/apps/<service_name>/...`` to the app's active revision.

It runs in front of Django (``config/asgi.py`` dispatches ``/apps/`` here), so a proxied request
pays for no middleware, no URL resolution and no database query: the route comes from memory
(see :mod:`apps.deployments.proxy.routes`) and the request goes out on a pooled aiohttp
connection. Both HTTP (every method, streamed bodies both ways, redirects rewritten under the
prefix) and WebSocket are carried; the prefix is stripped and ``X-Forwarded-Prefix``,
``-For``, ``-Host`` and ``-Proto`` tell the app where it is served.

A scaled-to-zero app is woken by the request (the start runs in a thread; concurrent requests
wait for the same wake). Errors are JSON: 404 ``NOT_FOUND`` for an unknown app, 503
``APP_UNAVAILABLE`` for a stopped one or one that cannot be woken, 502 ``APP_UNAVAILABLE`` when the
app does not answer.
"""

import asyncio
import contextlib
import json
import logging
import re
from urllib.parse import quote, urlsplit

import aiohttp
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from yarl import URL

from apps.core.errors import ErrorCode
from apps.deployments.proxy import routes
from apps.deployments.proxy.headers import (
    HOP_BY_HOP,
    hangar_cookie_names,
    rewrite_location,
    sets_hangar_cookie,
    upstream_headers,
)

logger = logging.getLogger(__name__)

PREFIX = "/apps/"
_SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
CONNECT_TIMEOUT = 5.0
# Headers aiohttp would otherwise add on its own; the client's request is forwarded as it came.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
# Where the pooled connection broke before anything was received: safe to try once more.
_RETRYABLE = (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError)


class Unavailable(Exception):
    """The request cannot reach the app; carries the JSON error to answer."""

    def __init__(self, status: int, detail: str, code: str = ErrorCode.APP_UNAVAILABLE) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code


def split_path(scope: dict) -> tuple[str, str]:
    """``(service_name, rest)`` of an ``/apps/<service_name><rest>`` request; ``rest`` stays
    percent-encoded as the client sent it."""
    raw = scope.get("raw_path") or quote(scope["path"]).encode()
    raw_text = raw.decode("latin-1")
    remainder = raw_text[len(PREFIX) :]
    name, slash, rest = remainder.partition("/")
    return name, slash + rest


def request_host(scope: dict) -> str:
    """The request's ``Host`` header."""
    for name, value in scope["headers"]:
        if name == b"host":
            return value.decode("latin-1")
    return ""


def _error_body(status: int, detail: str, code: str) -> bytes:
    return json.dumps({"detail": detail, "error_code": code, "timestamp": timezone.now().isoformat()}).encode()


async def _send_json(send, status: int, detail: str, code: str, extra: list | None = None) -> None:
    body = _error_body(status, detail, code)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


def _wake_in_thread(deployment_id: int) -> str:
    from apps.deployments.services.scaling import deployment_wake

    try:
        return deployment_wake(deployment_id=deployment_id)
    finally:
        close_old_connections()


class AppProxy:
    """The ASGI application behind ``/apps/``."""

    def __init__(self) -> None:
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}
        self._wakes: dict[int, asyncio.Task] = {}
        self._hidden_cookies: frozenset[str] | None = None
        self._apps_origin: tuple | None = None

    # --- shared pieces -----------------------------------------------------------------------

    def session(self) -> aiohttp.ClientSession:
        """The shared client session (one per event loop: daphne has one, tests may have several)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30, ttl_dns_cache=300)
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT),
                auto_decompress=False,
                # Never keep an app's cookies: each request carries its own client's.
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=_NO_AUTO_HEADERS,
                trust_env=False,
            )
            self._sessions[loop] = session
        return session

    @property
    def apps_origin(self) -> tuple[str, str] | None:
        """``(scheme://host, host)`` of ``APPS_PUBLIC_URL`` when apps have an origin of their own."""
        configured = settings.APPS_PUBLIC_URL
        if self._apps_origin is None or self._apps_origin[0] != configured:
            parts = urlsplit(configured)
            origin = (f"{parts.scheme}://{parts.netloc}", parts.netloc) if parts.netloc else None
            self._apps_origin = (configured, origin)
        return self._apps_origin[1]

    @property
    def hidden_cookies(self) -> frozenset[str]:
        if self._hidden_cookies is None:
            self._hidden_cookies = hangar_cookie_names()
        return self._hidden_cookies

    async def _wake(self, deployment_id: int) -> str:
        """Wake the app once, however many requests wait for it."""
        task = self._wakes.get(deployment_id)
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.get_running_loop().create_task(
                sync_to_async(_wake_in_thread, thread_sensitive=False)(deployment_id)
            )
            self._wakes[deployment_id] = task
        return await asyncio.shield(task)

    async def target_for(self, service_name: str) -> str:
        """The base URL to forward to, waking the app if it sleeps; :class:`Unavailable` otherwise."""
        route = await routes.resolve(service_name)
        if route.state == "up":
            return route.target
        if route.state == "asleep" and route.deployment_id is not None:
            target = await self._wake(route.deployment_id)
            routes.forget_local(service_name)
            if target:
                return target
            raise Unavailable(503, "The app could not be started; see its deployment's logs")
        if route.state == "down":
            raise Unavailable(503, "This app is not running; deploy it again to bring it back")
        raise Unavailable(404, f"No app is deployed as '{service_name}'", ErrorCode.NOT_FOUND)

    # --- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.websocket(scope, receive, send)

    async def http(self, scope: dict, receive, send) -> None:
        """Forward one HTTP request and stream the answer back."""
        service_name, rest = split_path(scope)
        if not _SERVICE_NAME.match(service_name):
            await _send_json(send, 404, "Not found", ErrorCode.NOT_FOUND)
            return
        prefix = f"{PREFIX}{service_name}/"
        origin = self.apps_origin
        if origin is not None and request_host(scope) != origin[1]:
            # Apps live on their own origin: never serve one beside Hangar's pages and cookies.
            query = scope.get("query_string") or b""
            location = origin[0].encode() + (scope.get("raw_path") or scope["path"].encode())
            location += b"?" + query if query else b""
            await send({"type": "http.response.start", "status": 308, "headers": [(b"location", location)]})
            await send({"type": "http.response.body", "body": b""})
            return
        if not rest:
            query = scope.get("query_string") or b""
            location = prefix.encode() + (b"?" + query if query else b"")
            await send({"type": "http.response.start", "status": 308, "headers": [(b"location", location)]})
            await send({"type": "http.response.body", "body": b""})
            return
        headers, host = upstream_headers(scope, prefix=prefix, hidden=self.hidden_cookies)
        body, streamed = await self._request_body(receive)
        for attempt in (1, 2):
            try:
                target = await self.target_for(service_name)
            except Unavailable as exc:
                await _send_json(send, exc.status, exc.detail, exc.code)
                return
            routes.note_request(service_name)
            try:
                await self._forward(scope, send, target, rest, headers, body, prefix=prefix, host=host)
                return
            except _RETRYABLE as exc:
                # The revision behind a remembered route is gone (switched, stopped, asleep):
                # look again once. A refused connection consumed nothing; a dropped one may have
                # consumed part of a streamed body, which cannot be sent twice.
                routes.forget_local(service_name)
                consumed = streamed and not isinstance(exc, aiohttp.ClientConnectorError)
                if attempt == 2 or consumed:
                    logger.info("App %s did not answer: %r", service_name, exc)
                    await _send_json(send, 502, "The app is not answering", ErrorCode.APP_UNAVAILABLE)
                    return
            except aiohttp.ClientError as exc:
                logger.info("App %s failed mid-request: %r", service_name, exc)
                await _send_json(send, 502, "The app is not answering", ErrorCode.APP_UNAVAILABLE)
                return

    async def _request_body(self, receive) -> tuple[object, bool]:
        """The body as bytes when it came in one message, else a stream of the remaining chunks."""
        message = await receive()
        first = message.get("body", b"")
        if not message.get("more_body"):
            return first, False

        async def chunks():
            yield first
            while True:
                chunk = await receive()
                if chunk["type"] != "http.request":
                    return
                yield chunk.get("body", b"")
                if not chunk.get("more_body"):
                    return

        return chunks(), True

    async def _forward(self, scope, send, target, rest, headers, body, *, prefix, host) -> None:
        query = scope.get("query_string") or b""
        url = URL(target + rest + ("?" + query.decode("latin-1") if query else ""), encoded=True)
        async with self.session().request(
            scope["method"], url, headers=headers, data=body or None, allow_redirects=False
        ) as response:
            response_headers = []
            for raw_name, raw_value in response.raw_headers:
                name = raw_name.lower()
                if name.decode("latin-1") in HOP_BY_HOP:
                    continue
                if name == b"location":
                    value = rewrite_location(raw_value.decode("latin-1"), prefix=prefix, target=target, host=host)
                    raw_value = value.encode("latin-1")
                elif name == b"set-cookie" and sets_hangar_cookie(raw_value.decode("latin-1"), self.hidden_cookies):
                    continue
                response_headers.append((name, raw_value))
            await send({"type": "http.response.start", "status": response.status, "headers": response_headers})
            try:
                async for chunk in response.content.iter_any():
                    # The last chunk ends the body itself, sparing daphne one more write.
                    last = response.content.at_eof()
                    await send({"type": "http.response.body", "body": chunk, "more_body": not last})
                    if last:
                        return
            except aiohttp.ClientError as exc:
                # The status is already sent; all that is left is to end the body.
                logger.info("App response broke off: %r", exc)
            await send({"type": "http.response.body", "body": b""})

    async def websocket(self, scope: dict, receive, send) -> None:
        """Open the same WebSocket on the app, then carry messages both ways until one side closes."""
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        service_name, rest = split_path(scope)
        prefix = f"{PREFIX}{service_name}/"
        if not _SERVICE_NAME.match(service_name) or not rest:
            await send({"type": "websocket.close", "code": 4404})
            return
        origin = self.apps_origin
        if origin is not None and request_host(scope) != origin[1]:
            await send({"type": "websocket.close", "code": 4403})
            return
        headers, _host = upstream_headers(scope, prefix=prefix, websocket=True, hidden=self.hidden_cookies)
        protocols = list(scope.get("subprotocols") or [])
        query = scope.get("query_string") or b""
        try:
            target = await self.target_for(service_name)
            ws_target = target.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
            url = URL(ws_target + rest + ("?" + query.decode("latin-1") if query else ""), encoded=True)
            upstream = await self.session().ws_connect(
                url, headers=headers, protocols=protocols, max_msg_size=0, autoping=True
            )
        except (TimeoutError, Unavailable, aiohttp.ClientError) as exc:
            logger.info("WebSocket to app %s refused: %r", service_name, exc)
            routes.forget_local(service_name)
            await send({"type": "websocket.close", "code": 1011})
            return
        accept: dict = {"type": "websocket.accept"}
        if upstream.protocol:
            accept["subprotocol"] = upstream.protocol
        await send(accept)
        await self._pump(upstream, receive, send, service_name)

    async def _pump(self, upstream: aiohttp.ClientWebSocketResponse, receive, send, service_name: str) -> None:
        async def keep_awake() -> None:
            # An open socket is a request in progress (as on Cloud Run): the app is not idle.
            while True:
                routes.note_request(service_name)
                await asyncio.sleep(routes.LAST_REQUEST_WRITE_SECONDS)

        async def client_to_app() -> None:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    await upstream.close(code=message.get("code") or 1000)
                    return
                if message.get("text") is not None:
                    await upstream.send_str(message["text"])
                elif message.get("bytes") is not None:
                    await upstream.send_bytes(message["bytes"])

        async def app_to_client() -> None:
            async for frame in upstream:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    await send({"type": "websocket.send", "text": frame.data})
                elif frame.type == aiohttp.WSMsgType.BINARY:
                    await send({"type": "websocket.send", "bytes": frame.data})
                else:
                    break
            code = upstream.close_code or 1000
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": code if 1000 <= code < 5000 else 1011})

        tasks = [asyncio.ensure_future(client_to_app()), asyncio.ensure_future(app_to_client())]
        awake = asyncio.ensure_future(keep_awake())
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            tasks.append(awake)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            if not upstream.closed:
                await upstream.close()


proxy_application = AppProxy()
