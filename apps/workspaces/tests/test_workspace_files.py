"""002's workspace routes: listing, reading, writing and deleting files, all confined."""

import os
import uuid

import pytest

from apps.workspaces.services import WELCOME_CODE
from apps.workspaces.tests.test_sessions import assert_error

pytestmark = pytest.mark.django_db


def url(session, rest: str) -> str:
    return f"/api/workspace/{session.id}/{rest}"


def test_files_lists_folders_before_their_children(user_client, session):
    root = session.workspace_path
    (root / "utils" / "deep").mkdir(parents=True)
    (root / "utils" / "helper.py").write_text("x = 1\n")
    (root / "utils" / "deep" / "a.txt").write_text("a")
    (root / "b.py").write_text("")
    response = user_client.get(url(session, "files"))
    assert response.status_code == 200
    assert response.json() == [
        {"name": "b.py", "type": "file", "path": "b.py"},
        {"name": "script.py", "type": "file", "path": "script.py"},
        {"name": "utils", "type": "folder", "path": "utils"},
        {"name": "deep", "type": "folder", "path": "utils/deep"},
        {"name": "a.txt", "type": "file", "path": "utils/deep/a.txt"},
        {"name": "helper.py", "type": "file", "path": "utils/helper.py"},
    ]


def test_an_empty_workspace_lists_as_an_empty_array(user_client, session):
    (session.workspace_path / "script.py").unlink()
    assert user_client.get(url(session, "files")).json() == []


def test_get_file(user_client, session):
    response = user_client.get(url(session, "file/script.py"))
    assert response.status_code == 200
    assert response.json() == {"name": "script.py", "path": "script.py", "content": WELCOME_CODE}


def test_post_creates_nested_files_with_their_folders_then_updates_them(user_client, session):
    response = user_client.post(url(session, "file/utils/helper.py"), {"content": "x = 1\n"}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "message": "File utils/helper.py created successfully",
        "file": {"name": "helper.py", "path": "utils/helper.py", "content": "x = 1\n"},
    }
    assert (session.workspace_path / "utils" / "helper.py").read_text() == "x = 1\n"
    response = user_client.post(url(session, "file/utils/helper.py"), {"content": ""}, format="json")
    assert response.json()["message"] == "File utils/helper.py updated successfully"
    assert user_client.get(url(session, "file/utils/helper.py")).json()["content"] == ""


def test_post_keeps_unicode_and_whitespace_exactly(user_client, session):
    content = "  print('héllo ✓')  \n\n"
    user_client.post(url(session, "file/u.py"), {"content": content}, format="json")
    assert user_client.get(url(session, "file/u.py")).json()["content"] == content


@pytest.mark.parametrize("body", [{}, {"content": None}, {"content": 5}, {"content": ["a"]}])
def test_post_without_string_content_is_400(user_client, session, body):
    assert_error(user_client.post(url(session, "file/a.py"), body, format="json"), 400, "VALIDATION_ERROR")


def test_post_with_malformed_json_is_400(user_client, session):
    response = user_client.post(url(session, "file/a.py"), "{", content_type="application/json")
    assert_error(response, 400, "MALFORMED_JSON")


def test_post_past_the_size_cap_is_413(user_client, session, settings):
    settings.SESSION_FILE_MAX_BYTES = 1024
    response = user_client.post(url(session, "file/big.txt"), {"content": "é" * 600}, format="json")
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert not (session.workspace_path / "big.txt").exists()


def test_the_default_cap_is_one_megabyte(user_client, session):
    response = user_client.post(url(session, "file/big.txt"), {"content": "x" * (1024**2 + 1)}, format="json")
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    response = user_client.post(url(session, "file/ok.txt"), {"content": "x" * 1024**2}, format="json")
    assert response.status_code == 200


def test_post_past_the_storage_quota_is_413(user_client, session, user, settings):
    tiers = {**settings.HANGAR_TIERS, "free": {**settings.HANGAR_TIERS["free"], "storage_quota_bytes": 200}}
    settings.HANGAR_TIERS = tiers
    assert_error(user_client.post(url(session, "file/a.txt"), {"content": "x" * 150}, format="json"), 413)


def test_post_onto_a_folder_or_under_a_file_is_400(user_client, session):
    (session.workspace_path / "pkg").mkdir()
    assert_error(user_client.post(url(session, "file/pkg"), {"content": "x"}, format="json"), 400)
    assert_error(user_client.post(url(session, "file/script.py/x"), {"content": "x"}, format="json"), 400)


def test_get_missing_file_is_404_and_a_folder_is_400(user_client, session):
    assert_error(user_client.get(url(session, "file/missing.py")), 404, "NOT_FOUND")
    assert_error(user_client.get(url(session, "file/nodir/missing.py")), 404, "NOT_FOUND")
    (session.workspace_path / "pkg").mkdir()
    assert_error(user_client.get(url(session, "file/pkg")), 400)


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00", b"caf\xe9 latin-1"])
def test_get_binary_or_undecodable_file_is_400_with_a_clear_message(user_client, session, data):
    (session.workspace_path / "blob.bin").write_bytes(data)
    body = assert_error(user_client.get(url(session, "file/blob.bin")), 400, "BAD_REQUEST")
    assert "binary" in body["detail"] or "UTF-8" in body["detail"]


def test_get_a_file_larger_than_the_cap_is_400(user_client, session, settings):
    settings.SESSION_FILE_MAX_BYTES = 10
    (session.workspace_path / "big.txt").write_text("x" * 11)
    assert "larger" in assert_error(user_client.get(url(session, "file/big.txt")), 400)["detail"]


def test_delete_file_and_folder(user_client, session):
    (session.workspace_path / "pkg" / "sub").mkdir(parents=True)
    (session.workspace_path / "pkg" / "sub" / "m.py").write_text("")
    response = user_client.delete(url(session, "file/script.py"))
    assert response.status_code == 200 and response.json() == {"message": "File script.py deleted successfully"}
    assert not (session.workspace_path / "script.py").exists()
    response = user_client.delete(url(session, "file/pkg"))
    assert response.json() == {"message": "Folder pkg deleted successfully"}
    assert not (session.workspace_path / "pkg").exists()
    assert_error(user_client.delete(url(session, "file/script.py")), 404, "NOT_FOUND")


ESCAPES = ["../secret.txt", "a/../../secret.txt", "%2E%2E/secret.txt", "%2Fetc/passwd", "/etc/passwd"]


@pytest.mark.parametrize("path", ESCAPES)
def test_paths_outside_the_workspace_are_400_on_every_file_route(user_client, session, path, runtime_root):
    secret = runtime_root / "workspaces" / "session" / "secret.txt"
    secret.write_text("secret")
    route = f"/api/workspace/{session.id}/file/{path}"
    for response in (
        user_client.get(route),
        user_client.post(route, {"content": "pwned"}, format="json"),
        user_client.delete(route),
    ):
        assert_error(response, 400, "BAD_REQUEST")
    assert secret.read_text() == "secret"


@pytest.fixture
def outside(runtime_root):
    """A folder with a file, outside every workspace."""
    folder = runtime_root / "outside"
    folder.mkdir(parents=True)
    (folder / "secret.txt").write_text("secret")
    return folder


def test_a_symlink_planted_in_the_workspace_cannot_reach_outside(user_client, session, outside):
    root = session.workspace_path
    os.symlink(outside, root / "door")
    os.symlink(outside / "secret.txt", root / "secret-link")
    for path in ("door/secret.txt", "secret-link"):
        assert_error(user_client.get(url(session, f"file/{path}")), 400, "BAD_REQUEST")
        response = user_client.post(url(session, f"file/{path}"), {"content": "pwned"}, format="json")
        assert_error(response, 400, "BAD_REQUEST")
    assert_error(user_client.post(url(session, "file/door/new.txt"), {"content": "x"}, format="json"), 400)
    assert_error(user_client.delete(url(session, "file/door/secret.txt")), 400)
    assert (outside / "secret.txt").read_text() == "secret"
    assert not (outside / "new.txt").exists()
    # The listing does not show links that lead outside, nor what is behind them.
    assert [item["path"] for item in user_client.get(url(session, "files")).json()] == ["script.py"]
    # Deleting the link removes the link itself, never its target.
    assert user_client.delete(url(session, "file/door")).status_code == 200
    assert user_client.delete(url(session, "file/secret-link")).status_code == 200
    assert not (root / "door").is_symlink() and (outside / "secret.txt").read_text() == "secret"


def test_a_symlink_inside_the_workspace_is_followed(user_client, session):
    root = session.workspace_path
    (root / "real").mkdir()
    (root / "real" / "a.py").write_text("a\n")
    os.symlink("real", root / "alias")
    assert user_client.get(url(session, "file/alias/a.py")).json()["content"] == "a\n"
    listed = {item["path"]: item["type"] for item in user_client.get(url(session, "files")).json()}
    assert listed["alias"] == "folder" and "alias/a.py" not in listed


def test_another_users_session_is_404_on_every_workspace_route(user_client, other_session):
    routes = [
        ("get", url(other_session, "files")),
        ("get", url(other_session, "file/script.py")),
        ("post", url(other_session, "file/script.py")),
        ("delete", url(other_session, "file/script.py")),
        ("get", url(other_session, "status")),
        ("post", url(other_session, "ensure-default")),
        ("post", f"/workspace/{other_session.id}/shutdown"),
    ]
    for method, route in routes:
        response = getattr(user_client, method)(route, {"content": "pwned"}, format="json")
        assert_error(response, 404, "NOT_FOUND")
        unknown = route.replace(str(other_session.id), str(uuid.uuid4()))
        assert_error(getattr(user_client, method)(unknown, {"content": "x"}, format="json"), 404, "NOT_FOUND")
    assert (other_session.workspace_path / "script.py").read_text() == WELCOME_CODE


def test_workspace_routes_apply_the_user_id_rule(user_client, session, other_user, user):
    assert user_client.get(url(session, f"files?user_id={user.pk}")).status_code == 200
    assert_error(user_client.get(url(session, f"files?user_id={other_user.pk}")), 403, "FORBIDDEN")
