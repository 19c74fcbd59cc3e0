"""Deployments on the real local backend: bubblewrap sandboxes serving stdlib apps, reached
through Hangar's ASGI proxy. No fakes in this module."""

import asyncio

import pytest

from apps.activity.models import Activity
from apps.deployments.models import Deployment
from apps.deployments.proxy import routes
from apps.deployments.tests import support
from apps.deployments.tests.support import asgi_http, make_build, run
from apps.runtime.backends import sandbox
from config.asgi import application

# Fixtures shared by the deployment tests.
runtime_root, backend, plain_venv = support.runtime_root, support.backend, support.plain_venv

pytestmark = [
    pytest.mark.skipif(not sandbox.bubblewrap_available(), reason="bubblewrap is not installed"),
    pytest.mark.django_db(transaction=True),
]


def deploy(client, build, **options) -> dict:
    """POST /api/v1/deployments (the task runs eagerly), then the deployment as GET shows it."""
    body = {"notebook_id": build.notebook_id, "build_id": build.build_id, "cpu": "0.5", "memory": "256Mi", **options}
    response = client.post("/api/v1/deployments", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == {"id", "notebook_id", "service_name", "status", "created_at"}
    assert created["status"] == "deploying"
    assert created["service_name"] == f"notebook-{build.notebook_id}-{build.owner_id}"
    return client.get(f"/api/v1/deployments/{created['id']}").json()


def test_deploy_stdlib_app_then_http_through_the_proxy(user_client, user, backend, plain_venv, runtime_root):
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    deployment = deploy(user_client, build)
    assert deployment["status"] == "deployed", deployment
    name = deployment["service_name"]
    assert deployment["service_url"].endswith(f"/apps/{name}/")
    assert deployment["instances"] == 1 and deployment["revision"] == 1
    assert deployment["error_message"] is None
    assert deployment["build_id"] == build.pk
    workload = f"dep-{deployment['id']}"
    assert workload in backend.list_workloads()
    # The limits asked for are the sandbox's limits.
    spec = backend._state(workload)["spec"]
    assert spec["cpu"] == 0.5 and spec["memory_bytes"] == 256 * 1024**2
    assert spec["ro_mounts"] == {"/opt/venv": str(plain_venv)}

    async def scenario():
        prefix = f"/apps/{name}"
        home = await asgi_http(application, "GET", f"{prefix}/")
        cookie = "hangar_access=secret-jwt; app_pref=dark; csrftoken=abc"
        seen = await asgi_http(
            application,
            "GET",
            f"{prefix}/headers",
            query="q=1",
            headers=[("Cookie", cookie), ("X-Forwarded-For", "198.51.100.1"), ("Connection", "keep-alive")],
        )
        posted = await asgi_http(
            application, "POST", f"{prefix}/echo", headers=[("Content-Type", "text/plain")], body=b"ping"
        )
        streamed_up = await asgi_http(
            application,
            "PUT",
            f"{prefix}/echo",
            headers=[("Content-Length", "12")],
            body_chunks=[b"chunk", b"ed-up", b"!!"],
        )
        deleted = await asgi_http(application, "DELETE", f"{prefix}/thing")
        redirect = await asgi_http(application, "GET", f"{prefix}/redirect")
        streamed_down = await asgi_http(application, "GET", f"{prefix}/stream")
        cookies = await asgi_http(application, "GET", f"{prefix}/cookie")
        bare = await asgi_http(application, "GET", prefix, query="a=b")
        missing = await asgi_http(application, "GET", f"{prefix}/nothing-here")
        unknown = await asgi_http(application, "GET", "/apps/notebook-999999-1/")
        return home, seen, posted, streamed_up, deleted, redirect, streamed_down, cookies, bare, missing, unknown

    home, seen, posted, streamed_up, deleted, redirect, streamed_down, cookies, bare, missing, unknown = run(scenario)
    assert home.status == 200
    assert home.body.startswith(b"hello from the app")
    assert f"base=/apps/{name}/".encode() in home.body

    assert seen.status == 200
    echoed = seen.json()
    assert echoed["path"] == "/headers?q=1"  # the prefix is stripped, the query kept
    headers = echoed["headers"]
    assert headers["x-forwarded-prefix"] == f"/apps/{name}"
    assert headers["x-forwarded-for"] == "198.51.100.1, 203.0.113.7"
    assert headers["x-forwarded-host"] == "testserver"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["host"] == "testserver"
    # Hangar's own cookies never reach an app; the app's own do.
    assert headers["cookie"] == "app_pref=dark"

    assert posted.status == 201 and posted.body == b"ping"
    assert streamed_up.status == 201 and streamed_up.body == b"chunked-up!!"
    assert deleted.status == 204
    assert redirect.status == 302
    assert redirect.header("location") == f"/apps/{name}/target?x=1"
    assert streamed_down.status == 200
    assert streamed_down.body == b"".join(f"part-{i}\n".encode() for i in range(5))
    assert cookies.headers_named("set-cookie") == ["app_pref=dark; Path=/"]
    assert bare.status == 308 and bare.header("location") == f"/apps/{name}/?a=b"
    assert missing.status == 404 and missing.body == b"no such page"  # the app's own 404
    assert unknown.status == 404
    assert unknown.json()["error_code"] == "NOT_FOUND" and "timestamp" in unknown.json()
    # Requests are remembered for the idle check, but only for apps that exist.
    assert name in routes._last_request and "notebook-999999-1" not in routes._last_request

    logs = user_client.get(f"/api/v1/deployments/{deployment['id']}/logs").json()
    messages = "\n".join(entry["message"] for entry in logs["logs"])
    assert "listening on 8080" in messages
    actions = set(Activity.objects.filter(user=user).values_list("action", flat=True))
    assert {"deployment_created", "deployment_deployed"} <= actions

    # Stop: the app's processes are gone and its URL says so in JSON.
    stopped = user_client.post(f"/api/v1/deployments/{deployment['id']}/stop").json()
    assert stopped["status"] == "stopped" and stopped["instances"] == 0
    assert workload not in backend.list_workloads()
    after = run(lambda: asgi_http(application, "GET", f"/apps/{name}/"))
    assert after.status == 503 and after.json()["error_code"] == "APP_UNAVAILABLE"


def test_websocket_through_the_proxy(user_client, user, backend, plain_venv, runtime_root):
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    name = deploy(user_client, build)["service_name"]

    async def scenario():
        inbox: asyncio.Queue = asyncio.Queue()
        outbox: asyncio.Queue = asyncio.Queue()
        await inbox.put({"type": "websocket.connect"})
        scope = {
            "type": "websocket",
            "path": f"/apps/{name}/ws",
            "raw_path": f"/apps/{name}/ws".encode(),
            "query_string": b"",
            "headers": [(b"host", b"testserver"), (b"origin", b"http://testserver")],
            "subprotocols": ["echo-v1"],
            "client": ("203.0.113.7", 50000),
            "scheme": "ws",
        }
        task = asyncio.ensure_future(application(scope, inbox.get, outbox.put))
        accepted = await asyncio.wait_for(outbox.get(), 10)
        await inbox.put({"type": "websocket.receive", "text": "hello"})
        text = await asyncio.wait_for(outbox.get(), 10)
        await inbox.put({"type": "websocket.receive", "bytes": b"\x01\x02\x03"})
        binary = await asyncio.wait_for(outbox.get(), 10)
        await inbox.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(task, 10)
        return accepted, text, binary

    routes._last_request.clear()
    accepted, text, binary = run(scenario)
    assert name in routes._last_request  # an open socket keeps the app from counting as idle
    assert accepted == {"type": "websocket.accept", "subprotocol": "echo-v1"}
    assert text == {"type": "websocket.send", "text": "echo:hello"}
    assert binary == {"type": "websocket.send", "bytes": b"\x03\x02\x01"}


def test_crashing_app_fails_with_its_log_and_leaves_nothing_running(
    user_client, user, backend, plain_venv, runtime_root
):
    build = make_build(user, app="crash_app.py", env_path=plain_venv, root=runtime_root)
    deployment = deploy(user_client, build)
    assert deployment["status"] == "failed"
    assert deployment["error_message"].startswith("The app stopped before it answered")
    assert "Command exited with status 3" in deployment["error_message"]
    assert "No module named 'imaginary_dependency'" in deployment["error_message"]
    assert deployment["service_url"] is None
    assert f"dep-{deployment['id']}" not in backend.list_workloads()
    failure = Activity.objects.get(user=user, action="deployment_failed")
    assert failure.status == Activity.Status.FAILURE
    answer = run(lambda: asgi_http(application, "GET", f"/apps/{deployment['service_name']}/"))
    assert answer.status == 503 and answer.json()["error_code"] == "APP_UNAVAILABLE"


def test_app_that_never_answers_fails_after_the_health_timeout(
    settings, user_client, user, backend, plain_venv, runtime_root
):
    settings.DEPLOY_HEALTH_TIMEOUT_SECONDS = 2
    build = make_build(user, app="crash_app.py", env_path=plain_venv, root=runtime_root)
    (runtime_root / "builds").joinpath()  # the same build folder, with an app that only sleeps
    main = next((runtime_root / "builds").iterdir()) / "main.py"
    main.write_text("import time\nprint('thinking', flush=True)\ntime.sleep(600)\n")
    deployment = deploy(user_client, build)
    assert deployment["status"] == "failed"
    assert "did not answer GET / on port 8080 within 2 s" in deployment["error_message"]
    assert "thinking" in deployment["error_message"]
    assert f"dep-{deployment['id']}" not in backend.list_workloads()


def test_deployment_model_state_after_stop_is_final(user_client, user, backend, plain_venv, runtime_root):
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    deployment = deploy(user_client, build)
    user_client.post(f"/api/v1/deployments/{deployment['id']}/stop")
    again = user_client.post(f"/api/v1/deployments/{deployment['id']}/stop")
    assert again.status_code == 200  # stopping twice is fine
    assert Deployment.objects.get(pk=deployment["id"]).stopped_at is not None


def test_an_app_that_went_away_answers_json_502(user_client, user, backend, plain_venv, runtime_root):
    build = make_build(user, app="stdlib_app.py", env_path=plain_venv, root=runtime_root)
    deployment = deploy(user_client, build)
    backend.stop(f"dep-{deployment['id']}")  # gone behind the proxy's back; the reconciler has not run
    answer = run(lambda: asgi_http(application, "GET", f"/apps/{deployment['service_name']}/"))
    assert answer.status == 502
    assert answer.header("content-type") == "application/json"
    assert answer.json()["error_code"] == "APP_UNAVAILABLE"
