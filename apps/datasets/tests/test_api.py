"""003's dataset routes over HTTP: confirm, versions, list parameters, detail, delete, isolation."""

import uuid

import pytest

from apps.datasets.models import Dataset, DatasetVersion, IngestionJob, UploadIntent
from apps.datasets.tests.conftest import CSV


def _stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_versions_number_up_and_the_newest_completed_is_current(uploader):
    first = uploader.upload("v1.csv", CSV, problem_type="classification", target_column="member")
    second = uploader.upload(
        "v2.csv",
        CSV + b"5,50,1,Lille,Fine,2024-04-01,false\n",
        create_new_version=True,
        dataset_id=first["dataset_id"],
        version_label="more rows",
        dataset_name="",
    )
    assert second["dataset_id"] == first["dataset_id"] and second["version_number"] == 2
    body = uploader.client.get(f"/api/datasets/{first['dataset_id']}").json()
    assert body["current_version_id"] == second["dataset_version_id"] and body["row_count"] == 5
    assert [(v["version_number"], v["version_label"], v["status"]) for v in body["versions"]] == [
        (1, "", "completed"),
        (2, "more rows", "completed"),
    ]
    assert body["problem_type"] == "classification" and body["target_column"] == "member"
    third = uploader.upload("v3.csv", b"\x00\x01", create_new_version=True, dataset_id=first["dataset_id"])
    assert third["version_number"] == 3
    body = uploader.client.get(f"/api/datasets/{first['dataset_id']}").json()
    # A failed newest version leaves the last good one current, and says so in status.
    assert body["current_version_id"] == second["dataset_version_id"] and body["status"] == "failed"


def test_confirm_refuses_a_reused_upload(uploader):
    answer = uploader.upload_url("a.csv", len(CSV)).json()
    uploader.put(answer["upload_url"], CSV)
    assert uploader.confirm(answer["upload_id"]).status_code == 200
    again = uploader.confirm(answer["upload_id"])
    assert again.status_code == 409 and again.json()["error_code"] == "CONFLICT"
    # Nor can the URL be used to overwrite the confirmed file.
    assert uploader.put(answer["upload_url"], CSV).status_code == 409


def test_confirm_before_the_upload_is_400(uploader):
    answer = uploader.upload_url("a.csv", len(CSV)).json()
    response = uploader.confirm(answer["upload_id"])
    assert response.status_code == 400 and "not been uploaded" in response.json()["detail"]
    assert not Dataset.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"dataset_name": ""},
        {"dataset_name": "   "},
        {"create_new_version": True},
        {"problem_type": "forecasting"},
        {"upload_id": "not-a-uuid"},
        {"dataset_id": "x", "create_new_version": True},
    ],
)
def test_confirm_validates_its_body(uploader, fields):
    answer = uploader.upload_url("a.csv", len(CSV)).json()
    uploader.put(answer["upload_url"], CSV)
    response = uploader.client.post(
        "/api/datasets/confirm", {"upload_id": answer["upload_id"], "dataset_name": "d", **fields}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "VALIDATION_ERROR"
    assert UploadIntent.objects.get(pk=answer["upload_id"]).confirmed_at is None


def test_confirm_of_an_unknown_upload_is_404(uploader):
    response = uploader.confirm(uuid.uuid4())
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"


def test_list_paginates_filters_searches_and_sorts(uploader):
    for name, kind in (("Churn", "classification"), ("Prices", "regression"), ("churn v2", "classification")):
        uploader.upload("d.csv", CSV, dataset_name=name, problem_type=kind)
    client = uploader.client
    body = client.get("/api/datasets?per_page=2").json()
    assert body["total"] == 3 and body["total_pages"] == 2 and body["page"] == 1 and body["per_page"] == 2
    assert [d["name"] for d in body["datasets"]] == ["churn v2", "Prices"]  # newest first by default
    assert [d["name"] for d in client.get("/api/datasets?page=2&per_page=2").json()["datasets"]] == ["Churn"]
    assert client.get("/api/datasets?page=5").json()["datasets"] == []
    names = [d["name"] for d in client.get("/api/datasets?sort_by=name&sort_order=asc").json()["datasets"]]
    assert names == sorted(names)
    search = client.get("/api/datasets?search=CHURN").json()
    assert {d["name"] for d in search["datasets"]} == {"Churn", "churn v2"} and search["total"] == 2
    regression = client.get("/api/datasets?problem_type=regression").json()
    assert [d["name"] for d in regression["datasets"]] == ["Prices"]
    item = body["datasets"][0]
    assert {
        "id",
        "name",
        "description",
        "problem_type",
        "target_column",
        "current_version_id",
        "row_count",
        "column_count",
        "columns_metadata",
        "file_size_bytes",
        "created_at",
        "updated_at",
        "status",
        "versions",
    } <= set(item)
    assert item["row_count"] == 4 and len(item["columns_metadata"]) == 7


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=x",
        "per_page=0",
        "per_page=101",
        "sort_by=size",
        "sort_order=up",
        "problem_type=forecasting",
        "per_page=2.5",
    ],
)
def test_list_refuses_bad_parameters(user_client, query):
    response = user_client.get(f"/api/datasets?{query}")
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"


def test_delete_removes_every_version_and_file(uploader, dataset_files):
    first = uploader.upload("v1.csv", CSV)
    uploader.upload("v2.csv", CSV, create_new_version=True, dataset_id=first["dataset_id"])
    kept = uploader.upload("other.csv", CSV, dataset_name="kept")
    assert len(_stored_files(dataset_files)) == 6  # raw and Parquet of three versions
    with uploader.capture(execute=True):
        response = uploader.client.delete(f"/api/datasets/{first['dataset_id']}")
    assert response.status_code == 200 and response.json() == {"message": "Dataset deleted successfully"}
    assert not Dataset.objects.filter(pk=first["dataset_id"]).exists()
    assert not DatasetVersion.objects.filter(dataset_id=first["dataset_id"]).exists()
    assert not IngestionJob.objects.filter(dataset_id=first["dataset_id"]).exists()
    remaining = _stored_files(dataset_files)
    assert len(remaining) == 2
    version = DatasetVersion.objects.get(pk=kept["dataset_version_id"])
    assert {p.relative_to(dataset_files).as_posix() for p in remaining} == {version.raw_key, version.parquet_key}
    assert uploader.client.get(f"/api/datasets/{first['dataset_id']}").status_code == 404
    assert uploader.client.get(f"/api/datasets/jobs/{first['job_id']}").status_code == 404


def test_other_tenants_get_404_everywhere(uploader, other_uploader, dataset_files):
    mine = uploader.upload("mine.csv", CSV)
    other = other_uploader.client
    dataset_id, job_id = mine["dataset_id"], mine["job_id"]
    assert other.get(f"/api/datasets/{dataset_id}").status_code == 404
    assert other.delete(f"/api/datasets/{dataset_id}").status_code == 404
    assert other.get(f"/api/datasets/jobs/{job_id}").status_code == 404
    assert other.get("/api/datasets").json()["total"] == 0
    # Their upload cannot become a version of my dataset, nor can they confirm my upload.
    theirs = other_uploader.upload_url("x.csv", len(CSV)).json()
    other_uploader.put(theirs["upload_url"], CSV)
    response = other_uploader.confirm(theirs["upload_id"], create_new_version=True, dataset_id=dataset_id)
    assert response.status_code == 404
    mine_pending = uploader.upload_url("y.csv", len(CSV)).json()
    uploader.put(mine_pending["upload_url"], CSV)
    assert other_uploader.confirm(mine_pending["upload_id"]).status_code == 404
    assert Dataset.objects.get(pk=dataset_id).versions.count() == 1
    assert uploader.client.get(f"/api/datasets/{dataset_id}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/datasets"),
        ("get", "/api/datasets/1"),
        ("delete", "/api/datasets/1"),
        ("post", "/api/datasets/confirm"),
        ("get", "/api/datasets/jobs/3f1c2b8e-0000-4000-8000-000000000001"),
    ],
)
def test_dataset_routes_need_authentication(api_client, method, path):
    assert getattr(api_client, method)(path).status_code == 401


def test_unknown_ids_are_json_404s(user_client):
    for path in ("/api/datasets/999999", f"/api/datasets/jobs/{uuid.uuid4()}", "/api/datasets/abc"):
        response = user_client.get(path)
        assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND", path


def test_me_counts_datasets_models_workflows_and_storage(uploader, user):
    me = uploader.client.get("/api/auth/me").json()
    assert me["dataset_count"] == 0 and me["storage_used_bytes"] == 0 and me["credit_balance"] == 100.0
    assert me["workflow_count"] == 0 and me["model_count"] == 0
    confirmed = uploader.upload("people.csv", CSV)
    version = DatasetVersion.objects.get(pk=confirmed["dataset_version_id"])
    me = uploader.client.get("/api/auth/me").json()
    assert me["dataset_count"] == 1
    assert me["storage_used_bytes"] == len(CSV) + version.file_size_bytes


def test_dataset_pages_need_sign_in_and_hide_other_tenants(client, uploader, other_user):
    from django.http import HttpResponse

    from apps.accounts.tokens import set_auth_cookies, tokens_for

    mine = uploader.upload("mine.csv", CSV)
    assert client.get("/datasets").status_code == 302
    response = HttpResponse()
    set_auth_cookies(response, tokens_for(other_user))
    client.cookies.update(response.cookies)
    assert client.get("/datasets", HTTP_ACCEPT="text/html").status_code == 200
    assert client.get(f"/datasets/{mine['dataset_id']}", HTTP_ACCEPT="text/html").status_code == 404
    assert client.get("/credits", HTTP_ACCEPT="text/html").status_code == 200
