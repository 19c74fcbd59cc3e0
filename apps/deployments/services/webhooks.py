"""GitHub and GitLab push webhooks: verify, record the delivery once, and redeploy linked notebooks.

A delivery is checked against every repository link of the repository its payload names: GitHub's
``X-Hub-Signature-256`` is the HMAC-SHA256 of the raw body under the link's secret, GitLab's
``X-Gitlab-Token`` is the secret itself; both are compared in constant time. A delivery no linked
secret verifies is a 401. A verified delivery is recorded once by its delivery id (a repeat answers
"duplicate"); a push to a linked branch queues one ``sync_repository_link`` task per link, which
fetches the notebook with git, replaces the notebook's content and starts a pipeline.
"""

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from django.db import IntegrityError, transaction

from apps.activity.models import Activity
from apps.activity.services import activity_record
from apps.core.crypto import DecryptionError, decrypt_text
from apps.core.errors import ErrorCode, HangarError
from apps.deployments import notebooks_api
from apps.deployments.models import Deployment, Pipeline, RepositoryLink, WebhookDelivery
from apps.deployments.services.pipelines import DEFAULT_OPTIONS, pipeline_fail, pipeline_start
from apps.deployments.services.repository_links import repo_key, repository_fetch_notebook

logger = logging.getLogger(__name__)

GITHUB = RepositoryLink.Provider.GITHUB
GITLAB = RepositoryLink.Provider.GITLAB
_GITHUB_URL_FIELDS = ("clone_url", "html_url", "ssh_url", "url", "git_url", "svn_url")
_GITLAB_URL_FIELDS = ("git_http_url", "git_ssh_url", "web_url", "http_url", "ssh_url", "url", "homepage")
# GitLab lists at most 20 commits in a push; GitHub caps its list too. Past that, the changed files
# are not all known, so every link of the branch is redeployed.
_MAX_LISTED_COMMITS = 20


@dataclass
class WebhookResult:
    """What the endpoint answers: the HTTP status and the JSON body."""

    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


class NotebookBusy(Exception):
    """The notebook's pipeline is still running; the sync is retried later."""


def _signature_invalid(detail: str = "Webhook signature is missing or invalid") -> HangarError:
    return HangarError(detail, error_code=ErrorCode.WEBHOOK_SIGNATURE_INVALID, status_code=401)


def webhook_parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """The JSON payload (GitHub may also send it form-encoded as ``payload=``); 400 if malformed."""
    try:
        text = body.decode("utf-8")
        if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            text = parse_qs(text).get("payload", [""])[0]
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        raise HangarError("Malformed JSON payload", error_code=ErrorCode.MALFORMED_JSON, status_code=400) from None
    if not isinstance(payload, dict):
        raise HangarError("The payload must be a JSON object", error_code=ErrorCode.MALFORMED_JSON, status_code=400)
    return payload


def _payload_keys(payload: dict[str, Any], sections: Iterable[str], url_fields: Iterable[str]) -> set[str]:
    keys = set()
    for section in sections:
        value = payload.get(section)
        if isinstance(value, dict):
            for name in url_fields:
                url = value.get(name)
                if isinstance(url, str):
                    keys.add(repo_key(url))
    keys.discard("")
    return keys


def _candidate_links(provider: str, keys: set[str]) -> list[RepositoryLink]:
    if not keys:
        return []
    return list(RepositoryLink.objects.filter(provider=provider, repo_key__in=keys).select_related("owner", "notebook"))


def _secret(link: RepositoryLink) -> bytes | None:
    try:
        return decrypt_text(link.secret_encrypted).encode("utf-8")
    except DecryptionError:
        logger.warning("Repository link %s: its secret cannot be decrypted", link.pk)
        return None


def github_verified_links(links: list[RepositoryLink], body: bytes, signature: str) -> list[RepositoryLink]:
    """The links whose secret signs ``body`` as ``signature`` (``sha256=<hex>``)."""
    if not signature.startswith("sha256="):
        return []
    given = signature.removeprefix("sha256=").strip().lower().encode("ascii", "replace")
    verified = []
    for link in links:
        secret = _secret(link)
        if secret is None:
            continue
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii")
        if hmac.compare_digest(expected, given):
            verified.append(link)
    return verified


def gitlab_verified_links(links: list[RepositoryLink], token: str) -> list[RepositoryLink]:
    """The links whose secret is ``token``, compared in constant time."""
    given = token.encode("utf-8", "replace")
    verified = []
    for link in links:
        secret = _secret(link)
        if secret is not None and hmac.compare_digest(secret, given):
            verified.append(link)
    return verified


def _record_delivery(provider: str, delivery_id: str, event: str) -> WebhookDelivery | None:
    """The new delivery row, or None when this delivery id was seen before."""
    try:
        with transaction.atomic():
            return WebhookDelivery.objects.create(provider=provider, delivery_id=delivery_id[:200], event=event[:64])
    except IntegrityError:
        return None


def _delivery_id(header: str, body: bytes) -> str:
    # Without the provider's id, the body itself identifies the delivery: an identical body is a resend.
    return header.strip() or f"sha256-{hashlib.sha256(body).hexdigest()}"


def _changed_paths(payload: dict[str, Any]) -> set[str] | None:
    """The files a push added or modified, or None when the payload does not list them all."""
    commits = payload.get("commits")
    if not isinstance(commits, list) or not commits or len(commits) >= _MAX_LISTED_COMMITS:
        return None
    total = payload.get("total_commits_count")
    if isinstance(total, int) and total > len(commits):
        return None
    changed: set[str] = set()
    for commit in commits:
        if not isinstance(commit, dict):
            return None
        for name in ("added", "modified"):
            files = commit.get(name)
            if not isinstance(files, list):
                return None
            changed.update(path for path in files if isinstance(path, str))
    return changed


def _push_links(links: list[RepositoryLink], payload: dict[str, Any]) -> tuple[list[RepositoryLink], str]:
    """The links a push redeploys, or none and the reason it is ignored."""
    ref = payload.get("ref")
    if not isinstance(ref, str) or not ref.startswith("refs/heads/"):
        return [], "not a branch push"
    after = payload.get("after")
    if payload.get("deleted") is True or (isinstance(after, str) and after and not after.strip("0")):
        return [], "the branch was deleted"
    branch = ref.removeprefix("refs/heads/")
    on_branch = [link for link in links if link.branch == branch]
    if not on_branch:
        return [], f"no linked notebook on branch {branch}"
    changed = _changed_paths(payload)
    if changed is None:
        return on_branch, ""
    selected = [link for link in on_branch if link.path in changed]
    return selected, "" if selected else "no linked notebook changed"


def _queue_syncs(links: list[RepositoryLink], delivery: str, commit: str) -> None:
    from apps.deployments import tasks_pipelines

    for link in links:
        pk = link.pk
        transaction.on_commit(lambda pk=pk: tasks_pipelines.sync_repository_link.delay(pk, delivery, commit))


def _handle(
    *,
    provider: str,
    links: list[RepositoryLink],
    delivery_id: str,
    event: str,
    is_push: bool,
    payload: dict[str, Any],
) -> WebhookResult:
    with transaction.atomic():
        delivery = _record_delivery(provider, delivery_id, event)
        if delivery is None:
            return WebhookResult(200, {"status": "duplicate", "delivery_id": delivery_id, "pipelines_queued": 0})
        if not is_push:
            return WebhookResult(200, {"status": "ignored", "reason": f"event {event or 'unknown'} is not handled"})
        selected, reason = _push_links(links, payload)
        if not selected:
            return WebhookResult(200, {"status": "ignored", "reason": reason, "pipelines_queued": 0})
        commit = str(payload.get("after") or payload.get("checkout_sha") or "")[:64]
        delivery.pipelines_started = len(selected)
        delivery.save(update_fields=["pipelines_started"])
        _queue_syncs(selected, delivery_id, commit)
    return WebhookResult(
        202,
        {
            "status": "accepted",
            "event": event,
            "delivery_id": delivery_id,
            "pipelines_queued": len(selected),
            "notebook_ids": sorted(link.notebook_id for link in selected),
        },
    )


def webhook_github(*, body: bytes, headers: Mapping[str, str], content_type: str = "") -> WebhookResult:
    """Handle one GitHub delivery (``ping`` and ``push``; other events are acknowledged and ignored)."""
    payload = webhook_parse_body(body, content_type)
    links = _candidate_links(GITHUB, _payload_keys(payload, ["repository"], _GITHUB_URL_FIELDS))
    verified = github_verified_links(links, body, headers.get("X-Hub-Signature-256", ""))
    if not verified:
        raise _signature_invalid()
    event = headers.get("X-GitHub-Event", "").strip()
    delivery_id = _delivery_id(headers.get("X-GitHub-Delivery", ""), body)
    if event == "ping":
        if _record_delivery(GITHUB, delivery_id, event) is None:
            return WebhookResult(200, {"status": "duplicate", "delivery_id": delivery_id, "pipelines_queued": 0})
        return WebhookResult(200, {"status": "ok", "event": "ping", "message": "pong", "zen": payload.get("zen", "")})
    return _handle(
        provider=GITHUB, links=verified, delivery_id=delivery_id, event=event, is_push=event == "push", payload=payload
    )


def webhook_gitlab(*, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
    """Handle one GitLab delivery (``Push Hook``; other events are acknowledged and ignored)."""
    payload = webhook_parse_body(body, "application/json")
    keys = _payload_keys(payload, ["project", "repository"], _GITLAB_URL_FIELDS)
    token = headers.get("X-Gitlab-Token", "")
    verified = gitlab_verified_links(_candidate_links(GITLAB, keys), token) if token else []
    if not verified:
        raise _signature_invalid("Webhook token is missing or invalid")
    event = headers.get("X-Gitlab-Event", "").strip()
    header_id = headers.get("X-Gitlab-Event-UUID", "") or headers.get("Idempotency-Key", "")
    delivery_id = _delivery_id(header_id, body)
    is_push = event == "Push Hook" or (not event and payload.get("object_kind") == "push")
    return _handle(
        provider=GITLAB, links=verified, delivery_id=delivery_id, event=event, is_push=is_push, payload=payload
    )


# --- The sync task's body ------------------------------------------------------------------------


def _options_for(notebook: Any) -> dict[str, Any]:
    """The deploy options of the notebook's last pipeline (or else its last deployment), so a push
    redeploys it the way it was deployed."""
    last = Pipeline.objects.filter(notebook=notebook).exclude(options={}).order_by("-created_at", "-id").first()
    if last is not None:
        return {**DEFAULT_OPTIONS, **last.options}
    deployment = Deployment.objects.filter(notebook=notebook).order_by("-created_at", "-id").first()
    if deployment is None:
        return dict(DEFAULT_OPTIONS)
    fields = ("cpu", "memory", "min_instances", "max_instances")
    return {**DEFAULT_OPTIONS, **{name: getattr(deployment, name) for name in fields}}


def repository_link_sync(*, link_pk: int, delivery: str, commit: str = "", force: bool = False) -> Pipeline | None:
    """Fetch the linked notebook, replace the notebook's content and start a ``webhook`` pipeline.

    Does nothing for a deleted link or a commit already deployed from this link. Raises
    :class:`NotebookBusy` while the notebook's own pipeline runs (unless ``force``).
    """
    link = RepositoryLink.objects.select_related("owner", "notebook").filter(pk=link_pk).first()
    if link is None:
        return None
    notebook = link.notebook
    if not force and Pipeline.objects.filter(notebook=notebook, status=Pipeline.Status.PROCESSING).exists():
        raise NotebookBusy(notebook.pk)
    options = _options_for(notebook)
    try:
        fetched = repository_fetch_notebook(link=link)
    except HangarError as exc:
        return _start_failed(link, options, f"parse failed: could not fetch the notebook: {exc.detail}")
    if fetched.commit and fetched.commit == link.last_commit:
        return None  # this commit was already taken from the repository (a repeated task)
    with transaction.atomic():
        try:
            notebook = notebooks_api.notebook_replace_content(
                notebook=notebook, content=fetched.content, filename=fetched.filename
            )
        except HangarError as exc:
            transaction.set_rollback(True)
            failure = f"parse failed: the notebook at {link.path} ({fetched.commit[:12]}) was refused: {exc.detail}"
        else:
            RepositoryLink.objects.filter(pk=link.pk).update(last_commit=fetched.commit)
            activity_record(
                user=link.owner,
                action="repository_pushed",
                details=f"Notebook {notebook.pk} updated from {link} at {fetched.commit[:12]} (delivery {delivery})",
                # The branch head is taken, which may be newer than the pushed commit; a delivery of
                # that newer push then finds it taken already.
                metadata={
                    "notebook_id": notebook.pk,
                    "commit": fetched.commit,
                    "pushed_commit": commit,
                    "delivery_id": delivery,
                },
            )
            return pipeline_start(owner=link.owner, notebook=notebook, options=options, trigger="webhook")
    return _start_failed(link, options, failure)


def _start_failed(link: RepositoryLink, options: dict[str, Any], reason: str) -> Pipeline:
    """A webhook pipeline that failed before parsing, so the user sees why the push did not deploy."""
    activity_record(
        user=link.owner,
        action="repository_sync_failed",
        details=f"Notebook {link.notebook_id}: {reason}"[:2000],
        status=Activity.Status.FAILURE,
        metadata={"notebook_id": link.notebook_id, "repository_link_id": link.pk},
    )
    with transaction.atomic():
        pipeline = pipeline_start(owner=link.owner, notebook=link.notebook, options=options, trigger="webhook")
        return pipeline_fail(pipeline_pk=pipeline.pk, reason=reason)
