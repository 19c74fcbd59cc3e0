"""001's activity routes and the live /ws/activity socket."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts.tokens import tokens_for
from apps.activity.models import Activity
from apps.activity.services import activity_record
from config.asgi import application

pytestmark = pytest.mark.django_db
# Browsers always send Origin; AllowedHostsOriginValidator refuses a socket without one.
BROWSER = [(b"host", b"localhost"), (b"origin", b"http://localhost")]


def test_activity_lists_only_the_callers_events(user_client, user, other_user):
    activity_record(user=user, action="environment_created", details="mine")
    activity_record(user=other_user, action="environment_created", details="theirs")
    body = user_client.get("/activity").json()
    assert body["status"] == "success"
    activities = body["data"]["activities"]
    assert [a["details"] for a in activities] == ["mine"]
    assert set(activities[0]) == {"id", "user_id", "action", "details", "timestamp", "status"}


def test_activity_limit(user_client, user):
    for n in range(5):
        activity_record(user=user, action="x", details=str(n))
    activities = user_client.get("/activity?limit=2").json()["data"]["activities"]
    assert [a["details"] for a in activities] == ["4", "3"]


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "5000"])
def test_activity_bad_limit_is_400(user_client, limit):
    assert user_client.get(f"/activity?limit={limit}").status_code == 400


def test_activity_needs_authentication(api_client):
    assert api_client.get("/activity").status_code == 401


def test_login_and_failed_login_are_recorded(api_client, user, password):
    api_client.post("/api/v1/auth/login", {"username": user.username, "password": "bad"}, format="json")
    api_client.post("/api/v1/auth/login", {"username": user.username, "password": password}, format="json")
    assert Activity.objects.filter(action="login_failed", status="failure").count() == 1
    assert Activity.objects.filter(action="login", user=user).count() == 1


def test_admin_activity_filters_by_user(superuser_client, user, other_user):
    activity_record(user=user, action="a")
    activity_record(user=other_user, action="b")
    everyone = superuser_client.get("/admin/activity").json()["data"]["activities"]
    assert {"a", "b"} <= {a["action"] for a in everyone}
    mine = superuser_client.get(f"/admin/activity?user_id={user.pk}").json()["data"]["activities"]
    assert {a["action"] for a in mine} == {"a"}
    assert superuser_client.get("/admin/activity?user_id=abc").status_code == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_activity_socket_streams_the_users_events_only(user, other_user):
    token = await sync_to_async(lambda: tokens_for(user).access)()
    socket = WebsocketCommunicator(application, f"/ws/activity?token={token}", headers=BROWSER)
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "connection_established"
    await sync_to_async(activity_record)(user=other_user, action="not_for_you")
    await sync_to_async(activity_record)(user=user, action="for_you")
    message = await socket.receive_json_from(timeout=5)
    assert message["activity"]["action"] == "for_you"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("query", ["", "?token=garbage"])
async def test_activity_socket_refuses_anonymous_and_bad_tokens(query):
    socket = WebsocketCommunicator(application, f"/ws/activity{query}", headers=BROWSER)
    await socket.connect()
    assert await close_code(socket) == 4401


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_activity_socket_accepts_the_cookie(user):
    token = await sync_to_async(lambda: tokens_for(user).access)()
    headers = [*BROWSER, (b"cookie", f"csrftoken=x; hangar_access={token}".encode())]
    socket = WebsocketCommunicator(application, "/ws/activity", headers=headers)
    connected, _ = await socket.connect()
    assert connected
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_user_may_hold_ten_sockets_and_no_more(user, other_user, settings):
    assert settings.HANGAR_RATE_LIMITS["websocket_connections"] == 10
    token = await sync_to_async(lambda: tokens_for(user).access)()
    sockets = [WebsocketCommunicator(application, f"/ws/activity?token={token}", headers=BROWSER) for _ in range(11)]
    for socket in sockets:
        await socket.connect()
    for socket in sockets[:10]:
        assert (await socket.receive_json_from())["type"] == "connection_established"
    assert await close_code(sockets[10]) == 4429
    # Another user is not affected, and closing one socket frees a slot.
    other_token = await sync_to_async(lambda: tokens_for(other_user).access)()
    other = WebsocketCommunicator(application, f"/ws/activity?token={other_token}", headers=BROWSER)
    assert (await other.connect())[0]
    await sockets[0].disconnect()
    again = WebsocketCommunicator(application, f"/ws/activity?token={token}", headers=BROWSER)
    assert (await again.connect())[0]
    for socket in [*sockets[1:10], other, again]:
        await socket.disconnect()


async def close_code(socket: WebsocketCommunicator) -> int | None:
    """The code the server closed the socket with (it accepts first, then closes)."""
    message = await socket.receive_output(timeout=5)
    return message.get("code") if message["type"] == "websocket.close" else None


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_logout_closes_the_sockets_of_that_token_only(user):
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.services import user_logout

    signed_out, kept = await sync_to_async(lambda: (tokens_for(user).access, tokens_for(user).access))()
    closing = WebsocketCommunicator(application, f"/ws/activity?token={signed_out}", headers=BROWSER)
    staying = WebsocketCommunicator(application, f"/ws/activity?token={kept}", headers=BROWSER)
    for socket in (closing, staying):
        await socket.connect()
        await socket.receive_json_from()
    await sync_to_async(user_logout)(user=user, access=AccessToken(signed_out))
    assert await close_code(closing) == 4401
    await staying.send_json_to({"type": "ping"})
    messages = [await staying.receive_json_from() for _ in range(2)]
    assert {"type": "pong"} in messages  # the logout's activity event may arrive first
    await staying.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_deactivation_closes_every_socket_at_once(user):
    from apps.accounts.services import user_deactivate_tokens

    token = await sync_to_async(lambda: tokens_for(user).access)()
    socket = WebsocketCommunicator(application, f"/ws/activity?token={token}", headers=BROWSER)
    await socket.connect()
    await socket.receive_json_from()
    await sync_to_async(user_deactivate_tokens)(user=user)
    assert await close_code(socket) == 4401


@pytest.mark.parametrize("user_id", ["²", "99999999999999999999999", "-1", "1.5"])
def test_admin_activity_refuses_odd_user_ids(superuser_client, user_id):
    response = superuser_client.get("/admin/activity", {"user_id": user_id})
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"
