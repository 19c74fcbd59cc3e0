"""``/api/v1/ws/builds/{id}/logs`` through Channels' communicator: live lines, replay, the final
status and close, and who may open it. Builds hit a seeded cache here (the pip run is streamed in
test_local_builder.py)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts.tests.factories import UserFactory
from apps.accounts.tokens import tokens_for
from apps.builds import logs, services
from apps.builds.tests.conftest import make_notebook, seed_cache
from config.asgi import application

BROWSER = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def token_for(user) -> str:
    return await sync_to_async(lambda: tokens_for(user).access)()


async def queued_build(user):
    def make():
        notebook = make_notebook(user)
        seed_cache(notebook.requirements_txt)
        return services.build_create(owner=user, notebook=notebook)

    return await sync_to_async(make)()


async def open_socket(ref, token: str | None) -> WebsocketCommunicator:
    query = f"?token={token}" if token else ""
    socket = WebsocketCommunicator(application, f"/api/v1/ws/builds/{ref}/logs{query}", headers=BROWSER)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def read_until_complete(socket: WebsocketCommunicator) -> list[dict]:
    messages: list[dict] = []
    while not messages or messages[-1]["type"] != "complete":
        messages.append(await socket.receive_json_from(timeout=30))
    assert (await socket.receive_output(timeout=5)) == {"type": "websocket.close", "code": 1000}
    return messages


async def test_live_lines_then_complete_and_close(user):
    build = await queued_build(user)
    socket = await open_socket(build.build_id, await token_for(user))
    first = await socket.receive_json_from(timeout=5)
    assert first["type"] == "status" and first["status"] == "queued"

    running = asyncio.ensure_future(sync_to_async(services.build_execute, thread_sensitive=False)(build=build))
    messages = await read_until_complete(socket)
    finished = await running

    lines = [m for m in messages if m["type"] == "log"]
    assert [m["n"] for m in lines] == list(range(len(lines)))
    assert not any(m.get("replay") for m in lines)
    assert any("Cache hit" in m["line"] for m in lines)
    assert [m["line"] for m in lines] == await sync_to_async(logs.read_lines)(build.build_id)
    assert messages[-1]["status"] == "success" == finished.status
    assert messages[-1]["cache_hit"] is True and messages[-1]["build_id"] == build.build_id


async def test_a_finished_build_is_replayed_then_closed(user):
    build = await queued_build(user)
    await sync_to_async(services.build_execute)(build=build)
    socket = await open_socket(build.pk, await token_for(user))
    messages = await read_until_complete(socket)
    replayed = [m for m in messages if m["type"] == "log"]
    assert replayed and all(m["replay"] for m in replayed)
    assert [m["line"] for m in replayed] == await sync_to_async(logs.read_lines)(build.build_id)
    assert messages[-1]["status"] == "success"


async def test_ping_and_bad_frames_while_queued(user):
    build = await queued_build(user)
    socket = await open_socket(build.pk, await token_for(user))
    await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await socket.send_to(text_data="{not json")
    assert (await socket.receive_json_from(timeout=5))["error_code"] == "BAD_REQUEST"
    await socket.send_json_to({"type": "input", "data": "x"})
    assert (await socket.receive_json_from(timeout=5))["error_code"] == "BAD_REQUEST"
    await socket.disconnect()


async def test_another_tenant_and_unknown_ids_are_closed_4404(user):
    build = await queued_build(user)
    stranger = await sync_to_async(UserFactory)()
    stranger_token = await token_for(stranger)
    for ref in (build.pk, build.build_id, "999999", "garbage", "build-1"):
        socket = await open_socket(ref, stranger_token)
        assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4404}


async def test_anonymous_socket_is_closed_4401(user):
    build = await queued_build(user)
    socket = await open_socket(build.pk, None)
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
