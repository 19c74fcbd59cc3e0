"""Running a job: what the Celery task calls. It moves the job to running, writes the training spec,
supervises the training process (:mod:`apps.jobs.executor.supervisor`), records each event in the
job's node states and sends it to the job's sockets, then stores the artifacts and results (or
fails the job with the reason, refunding what it did not use).
"""

import json
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import close_old_connections, transaction
from django.utils import timezone

from apps.core.errors import HangarError
from apps.jobs import streams
from apps.jobs.executor.supervisor import Outcome, Supervisor, host_name
from apps.jobs.models import Job, TrainedModel
from apps.jobs.services import workflow_api
from apps.jobs.services.jobs import lock_job, move_job

logger = logging.getLogger(__name__)

Status = Job.Status
# Node states are written to the database at most this often (status changes are written at once).
_FLUSH_SECONDS = 0.5
_LOG_LINES_PER_NODE = 200


def job_work_dir(job_id: Any) -> Path:
    """Where the training process of ``job_id`` writes (removed when the job ends)."""
    return Path(settings.JOBS_WORK_DIR) / str(job_id)


def artifact_key(job_id: Any, relative: str) -> str:
    """The storage key of one of the job's files (``plots/<name>.png``, ``models/<node>.joblib``)."""
    return f"jobs/{job_id}/{relative}"


# --- Recording events ----------------------------------------------------------------------------


class Recorder:
    """Keeps the job's node states while it runs, writes them to the database and tells the sockets."""

    def __init__(self, job: Job) -> None:
        self.job_id = job.pk
        self.nodes = job.nodes
        self.by_id = {node["id"]: node for node in self.nodes}
        self.progress = job.progress
        self.current = ""
        self.dirty = False
        self.last_flush = 0.0

    def handle(self, event: dict[str, Any]) -> None:
        """Apply one event from the training process."""
        kind = event.get("event")
        node = self.by_id.get(str(event.get("node_id"))) if event.get("node_id") is not None else None
        if kind == "node" and node is not None:
            self._node(node, event)
            self.flush(force=True)
            return
        if kind == "progress":
            self.progress = max(self.progress, int(event.get("progress") or 0))
            streams.job_publish(
                self.job_id,
                {
                    "type": streams.PROGRESS,
                    "job_id": str(self.job_id),
                    "progress": self.progress,
                    "node_id": event.get("node_id"),
                },
            )
        elif kind == "log":
            self._log(node, str(event.get("message", "")))
        self.dirty = True
        self.flush()

    def _node(self, node: dict, event: dict) -> None:
        status = str(event.get("status"))
        now = timezone.now().isoformat()
        node["status"] = status
        if status == "running":
            node["started_at"] = now
            self.current = node["id"]
        else:
            node["finished_at"] = now
            node["started_at"] = node["started_at"] or now
        if event.get("summary") is not None:
            node["summary"] = event["summary"]
        if event.get("error"):
            node["error"] = str(event["error"])[:2000]
        streams.job_publish(
            self.job_id,
            {
                "type": streams.NODE_STATUS,
                "job_id": str(self.job_id),
                "node_id": node["id"],
                "status": status,
                "summary": node["summary"],
                "started_at": node["started_at"],
                "finished_at": node["finished_at"],
                "timestamp": now,
            },
        )

    def _log(self, node: dict | None, message: str) -> None:
        target = node or self.by_id.get(self.current) or (self.nodes[0] if self.nodes else None)
        if target is not None:
            target["logs"] = [*target["logs"], message][-_LOG_LINES_PER_NODE:]
        streams.job_publish(
            self.job_id,
            {
                "type": streams.LOG,
                "job_id": str(self.job_id),
                "node_id": target["id"] if target else None,
                "message": message,
                "timestamp": timezone.now().isoformat(),
            },
        )

    def fail_current(self, message: str) -> None:
        """Put the failure on the node that was running."""
        node = self.by_id.get(self.current)
        if node is not None and node["status"] == "running":
            node["error"] = message[:2000]

    def flush(self, *, force: bool = False) -> None:
        """Write the node states and progress, unless written less than a moment ago."""
        now = time.monotonic()
        if not force and (not self.dirty or now - self.last_flush < _FLUSH_SECONDS):
            return
        # Only while running: a cancel that already closed the nodes must not be overwritten.
        Job.objects.filter(pk=self.job_id, status=Status.RUNNING).update(
            nodes=self.nodes, progress=self.progress, current_node_id=self.current, updated_at=timezone.now()
        )
        self.dirty = False
        self.last_flush = now


# --- Start, supervise, finish --------------------------------------------------------------------


def _begin(job_id: Any) -> tuple[Job, Path] | None:
    """Move a queued job to running and write its spec; None when there is nothing to run."""
    with transaction.atomic():
        job = lock_job(job_id)
        if job is None or job.status != Status.QUEUED:
            return None
        try:
            data_path = workflow_api.data_path(user=job.owner, plan=job.snapshot.plan)
        except HangarError as exc:
            move_job(job, Status.FAILED, reason=f"The dataset cannot be read: {exc.detail}")
            return None
        work_dir = job_work_dir(job.pk)
        work_dir.mkdir(parents=True, exist_ok=True)
        spec_path = work_dir / "spec.json"
        spec = {
            "plan": job.snapshot.plan,
            "data_path": str(data_path),
            "output_dir": str(work_dir / "output"),
            "time_limit_seconds": settings.JOB_TIME_LIMIT_SECONDS,
        }
        spec_path.write_text(json.dumps(spec))
        move_job(job, Status.RUNNING)
    return job, spec_path


def _is_cancelled(job_id: Any) -> bool:
    return Job.objects.filter(pk=job_id, status=Status.CANCELLED).exists()


def _record_pid(job_id: Any, pid: int) -> None:
    Job.objects.filter(pk=job_id).update(executor_pid=pid, executor_host=host_name())


def job_execute(*, job_id: Any) -> str | None:
    """Run a queued job to its end; returns its final status (None if it was not queued).

    Safe to run twice: only a queued job is started.
    """
    started = _begin(job_id)
    if started is None:
        return None
    job, spec_path = started
    recorder = Recorder(job)
    supervisor = Supervisor(
        job_id=str(job.pk),
        spec_path=spec_path,
        time_limit=settings.JOB_TIME_LIMIT_SECONDS,
        on_start=lambda pid: _record_pid(job.pk, pid),
        on_event=recorder.handle,
        is_cancelled=lambda: _is_cancelled(job.pk),
    )
    try:
        outcome = supervisor.run()
    except Exception as exc:  # the process could not even start: the job fails, the user is refunded
        logger.exception("Job %s: the training process failed to start", job.pk)
        outcome = Outcome("crashed", f"The training process could not start: {exc}")
    try:
        return _finish(job.pk, outcome, recorder, spec_path.parent / "output")
    finally:
        shutil.rmtree(spec_path.parent, ignore_errors=True)


def job_execute_in_background(*, job_id: Any) -> None:
    """Run :func:`job_execute` on a daemon thread (the embedded worker has a single task slot, which a
    long training must not hold)."""

    def target() -> None:
        try:
            job_execute(job_id=job_id)
        except Exception:
            logger.exception("Job %s: supervision failed", job_id)
            from apps.jobs.services.jobs import job_fail

            job_fail(job_id=job_id, reason="The job's supervisor failed; see the server log")
        finally:
            close_old_connections()

    threading.Thread(target=target, name=f"job-{job_id}", daemon=True).start()


def _finish(job_id: Any, outcome: Outcome, recorder: Recorder, output: Path) -> str:
    recorder.flush(force=True)
    if outcome.kind == "cancelled" or _is_cancelled(job_id):
        return Status.CANCELLED
    with transaction.atomic():
        job = lock_job(job_id)
        if job.status != Status.RUNNING:
            return job.status
        job.nodes = recorder.nodes
        job.progress = recorder.progress
        if outcome.kind == "result":
            try:
                _store_results(job, outcome.payload, output)
            except OSError as exc:
                outcome = Outcome("crashed", f"The job's results could not be stored: {exc}")
            else:
                move_job(job, Status.COMPLETED)
                return job.status
        recorder.fail_current(outcome.message)
        job.nodes = recorder.nodes
        move_job(job, Status.FAILED, reason=outcome.message or "Training failed")
        return job.status


def _save(key: str, path: Path) -> int:
    """Put a file the training wrote into storage under ``key``; its size."""
    size = path.stat().st_size
    if default_storage.exists(key):
        default_storage.delete(key)
    if isinstance(default_storage, FileSystemStorage):
        # Local storage: a move (a rename on the same file system) instead of copying a large model.
        target = Path(default_storage.path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        return size
    with path.open("rb") as handle:
        default_storage.save(key, File(handle))
    return size


def _store_results(job: Job, payload: dict[str, Any], output: Path) -> None:
    """Copy plots and models to storage, create the trained models and keep the results."""
    results = payload.get("results") or {}
    artifacts = payload.get("artifacts") or {}
    for name, relative in (artifacts.get("plots") or {}).items():
        _save(artifact_key(job.pk, f"plots/{name}.png"), output / relative)
    base = f"/api/jobs/{job.pk}"
    for entry in results.get("models", []):
        relative = (artifacts.get("models") or {}).get(entry["node_id"])
        if relative:
            key = artifact_key(job.pk, relative)
            size = _save(key, output / relative)
            TrainedModel.objects.update_or_create(
                job=job,
                node_id=entry["node_id"],
                defaults={
                    "owner": job.owner,
                    "plugin": entry["plugin"],
                    "problem_type": results.get("problem_type", ""),
                    "metrics": entry.get("metrics") or {},
                    "cv_metrics": entry.get("cv_metrics") or {},
                    "artifact_key": key,
                    "artifact_size_bytes": size,
                },
            )
            entry["download_url"] = f"{base}/models/{entry['node_id']}/download"
        for plot in entry.get("plots", []):
            plot["url"] = f"{base}/plots/{plot['name']}.png"
    job.results = results
