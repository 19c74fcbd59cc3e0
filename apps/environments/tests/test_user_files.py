"""001's /user-files: upload, list, download, delete; caps (413), names, and no path escapes."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.environments.files import user_files_dir
from apps.environments.tests.test_environments_v1 import assert_error

pytestmark = pytest.mark.django_db


def upload(client, name="myfile.csv", content=b"a,b\n1,2\n", content_type="text/csv"):
    return client.post(
        "/user-files/upload", {"file": SimpleUploadedFile(name, content, content_type)}, format="multipart"
    )


def set_limits(settings, **limits):
    settings.HANGAR_TIERS = {**settings.HANGAR_TIERS, "free": {**settings.HANGAR_TIERS["free"], **limits}}


def test_upload_list_download_delete(user_client, user):
    response = upload(user_client)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["filename"] == "myfile.csv"
    assert data["size_bytes"] == 8
    assert data["path"] == "/workspace/files/myfile.csv"
    assert "uploaded_at" in data
    assert (user_files_dir(user) / "myfile.csv").read_bytes() == b"a,b\n1,2\n"

    files = user_client.get("/user-files").json()["data"]["files"]
    assert files == [
        {
            "filename": "myfile.csv",
            "size_bytes": 8,
            "path": "/workspace/files/myfile.csv",
            "created_at": files[0]["created_at"],
        }
    ]

    response = user_client.get("/user-files/myfile.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"a,b\n1,2\n"

    response = user_client.delete("/user-files/myfile.csv")
    assert response.status_code == 200
    assert response.json()["message"] == "File deleted successfully"
    assert user_client.get("/user-files").json()["data"]["files"] == []
    assert_error(user_client.get("/user-files/myfile.csv"), 404, "NOT_FOUND")
    assert_error(user_client.delete("/user-files/myfile.csv"), 404, "NOT_FOUND")


def test_unknown_types_download_as_octet_stream(user_client):
    upload(user_client, name="blob.zzzunknown", content=b"\x00\x01")
    response = user_client.get("/user-files/blob.zzzunknown")
    assert response["Content-Type"] == "application/octet-stream"


def test_upload_replaces_a_file_of_the_same_name(user_client, user):
    upload(user_client, content=b"one")
    upload(user_client, content=b"second")
    assert (user_files_dir(user) / "myfile.csv").read_bytes() == b"second"
    assert len(user_client.get("/user-files").json()["data"]["files"]) == 1


def test_upload_keeps_only_the_base_name(user_client, user):
    response = upload(user_client, name="../../etc/passwd")
    assert response.status_code == 200
    assert response.json()["data"]["filename"] == "passwd"
    assert (user_files_dir(user) / "passwd").exists()


def raw_upload(client, filename: str, content: bytes = b"data"):
    """A multipart body built by hand, so the file name reaches the server exactly as written."""
    boundary = "hangarboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.generic("POST", "/user-files/upload", body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("name", ["..", ".", "...", ".bashrc", "", "dir/..", "/"])
def test_bad_upload_names_are_400(user_client, user, name):
    assert_error(raw_upload(user_client, name), 400, "BAD_REQUEST")
    assert list(user_files_dir(user).iterdir()) == []


def test_control_characters_never_reach_the_disk(user_client, user):
    response = raw_upload(user_client, "bad\x01name")
    if response.status_code == 200:
        assert response.json()["data"]["filename"] == "badname"
    else:
        assert_error(response, 400, "BAD_REQUEST")
    assert all("\x01" not in p.name for p in user_files_dir(user).iterdir())


def test_upload_without_a_file_is_400(user_client):
    assert_error(user_client.post("/user-files/upload", {"other": "x"}, format="multipart"), 400, "BAD_REQUEST")
    assert_error(user_client.post("/user-files/upload", {"file": "x"}, format="json"), 415, "UNSUPPORTED_MEDIA_TYPE")


def test_per_file_cap_is_413(user_client, user, settings):
    set_limits(settings, max_upload_bytes=1000)
    assert_error(upload(user_client, content=b"x" * 1001), 413, "PAYLOAD_TOO_LARGE")
    assert upload(user_client, content=b"x" * 1000).status_code == 200
    assert [p.name for p in user_files_dir(user).iterdir()] == ["myfile.csv"]  # no temporary leftovers


def test_content_length_is_checked_before_the_body_is_read(user_client, settings):
    set_limits(settings, max_upload_bytes=10)
    assert_error(upload(user_client, content=b"x" * 200_000), 413, "PAYLOAD_TOO_LARGE")


def test_storage_quota_is_413(user_client, user, settings):
    set_limits(settings, storage_quota_bytes=1500)
    assert upload(user_client, name="a.bin", content=b"x" * 1000).status_code == 200
    assert_error(upload(user_client, name="b.bin", content=b"x" * 600), 413, "PAYLOAD_TOO_LARGE")
    # Replacing a file only counts the difference.
    assert upload(user_client, name="a.bin", content=b"x" * 1400).status_code == 200


def test_default_caps_match_001():
    from django.conf import settings

    assert settings.HANGAR_TIERS["free"]["max_upload_bytes"] == 100 * 1024**2
    assert settings.HANGAR_TIERS["free"]["storage_quota_bytes"] == 1024**3
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 10 * 1024**2


@pytest.mark.parametrize("name", ["..", "...", ".hidden", "a\\b"])
def test_bad_names_in_urls_are_400(user_client, name):
    assert_error(user_client.get(f"/user-files/{name}"), 400)
    assert_error(user_client.delete(f"/user-files/{name}"), 400)


def test_dotdot_segments_never_reach_outside(user_client):
    for url in ["/user-files/../../etc/passwd", "/user-files/%2e%2e/%2e%2e/etc/passwd", "/user-files//etc/passwd"]:
        response = user_client.get(url)
        assert response.status_code in (400, 404)
        assert b"root:" not in b"".join(getattr(response, "streaming_content", [response.content]))


def test_a_symlink_pointing_outside_is_never_followed(user_client, user, tmp_path):
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("top secret")
    folder = user_files_dir(user)
    os.symlink(secret, folder / "link.txt")
    assert_error(user_client.get("/user-files/link.txt"), 400, "BAD_REQUEST")
    assert user_client.get("/user-files").json()["data"]["files"] == []
    # Uploading over the link is refused rather than written through it.
    assert_error(upload(user_client, name="link.txt", content=b"overwrite"), 400)
    assert secret.read_text() == "top secret"
    # Deleting removes the link itself, never its target.
    assert user_client.delete("/user-files/link.txt").status_code == 200
    assert not os.path.lexists(folder / "link.txt")
    assert secret.read_text() == "top secret"


def test_a_symlink_inside_the_folder_is_not_served(user_client, user):
    upload(user_client, name="real.txt", content=b"data")
    folder = user_files_dir(user)
    os.symlink(folder / "real.txt", folder / "alias.txt")
    assert_error(user_client.get("/user-files/alias.txt"), 404)
    assert [f["filename"] for f in user_client.get("/user-files").json()["data"]["files"]] == ["real.txt"]


def test_directories_are_not_files(user_client, user):
    (user_files_dir(user) / "folder").mkdir()
    assert_error(user_client.get("/user-files/folder"), 404)
    assert_error(user_client.delete("/user-files/folder"), 404)
    assert user_client.get("/user-files").json()["data"]["files"] == []


def test_files_are_per_user(user_client, other_client, other_user):
    upload(other_client, name="theirs.txt", content=b"private")
    assert user_client.get("/user-files").json()["data"]["files"] == []
    assert_error(user_client.get("/user-files/theirs.txt"), 404)
    assert_error(user_client.delete("/user-files/theirs.txt"), 404)
    assert (user_files_dir(other_user) / "theirs.txt").exists()


def test_needs_authentication(api_client):
    assert_error(api_client.get("/user-files"), 401)
    assert_error(upload(api_client), 401)
