"""The notebook routes through a real ``manage.py serve`` (daphne): upload, parse, download, and a
50 MB upload answered with a JSON 413 rather than an HTML page or a dropped connection."""

import http.client
import json
import urllib.parse
import uuid

from apps.notebooks.tests.helpers import fixture_bytes
from tests.served import served_hangar


def _request(url: str, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _multipart(filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/x-ipynb+json\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _token(url: str) -> str:
    account = {"email": "nb@example.com", "username": "nbuser", "password": "Notebook-Pass-42!"}
    status, _, body = _request(
        url, "POST", "/api/v1/auth/register", json.dumps(account).encode(), {"Content-Type": "application/json"}
    )
    assert status == 201, body
    form = urllib.parse.urlencode({"username": "nbuser", "password": account["password"]}).encode()
    status, _, body = _request(
        url, "POST", "/api/v1/auth/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 200, body
    return json.loads(body)["access_token"]


def test_notebook_routes_over_real_http(tmp_path):
    with served_hangar(tmp_path, MEDIA_ROOT=str(tmp_path / "media")) as served:
        auth = {"Authorization": f"Bearer {_token(served.url)}"}

        body, content_type = _multipart("flask_app.ipynb", fixture_bytes("flask_app.ipynb"))
        status, _, answer = _request(
            served.url, "POST", "/api/v1/notebooks/upload", body, {**auth, "Content-Type": content_type}
        )
        assert status == 201, answer
        notebook = json.loads(answer)
        assert notebook["status"] == "uploaded"

        status, _, answer = _request(served.url, "POST", f"/api/v1/notebooks/{notebook['id']}/parse", b"", auth)
        assert status == 200, answer
        assert json.loads(answer)["app_kind"] == "flask"

        status, headers, answer = _request(
            served.url, "GET", f"/api/v1/notebooks/{notebook['id']}/download/requirements.txt", headers=auth
        )
        assert status == 200
        assert headers["Content-Disposition"] == 'attachment; filename="requirements.txt"'
        assert answer.decode().splitlines()[1:] == ["flask"]

        # 50 MB on the free tier (20 MB): a JSON 413 after the body, not an HTML page or a reset.
        body, content_type = _multipart("huge.ipynb", b"{" + b" " * (50 * 1024**2) + b"}")
        status, headers, answer = _request(
            served.url, "POST", "/api/v1/notebooks/upload", body, {**auth, "Content-Type": content_type}
        )
        assert status == 413
        assert headers["Content-Type"].startswith("application/json")
        error = json.loads(answer)
        assert error["error_code"] == "PAYLOAD_TOO_LARGE"
        assert {"detail", "error_code", "timestamp"} <= set(error)

        status, _, answer = _request(served.url, "GET", "/api/v1/notebooks", headers=auth)
        assert [item["id"] for item in json.loads(answer)] == [notebook["id"]]
