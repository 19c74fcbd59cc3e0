"""Celery in both modes, for real: no mocks, real workers, real brokers.

- Embedded default: the worker and beat threads that ``manage.py serve`` starts, on the
  in-memory transport, inside this test process.
- Production: ``celery worker`` and ``celery beat`` as separate processes, on Redis when the
  environment has ``REDIS_URL`` (second CI pass) and on kombu's filesystem transport otherwise.
- ``manage.py serve`` as a subprocess: HTTP, the embedded worker and embedded beat together.

The subprocesses always use their own migrated SQLite file, so both CI passes run them alike.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.core import mail

from apps.core import embedded_worker
from apps.core.embedded_worker import start_embedded_worker, stop_embedded_worker
from config.celery import app as celery_app
from tests.served import clean_env, served_hangar

REPO_ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
FLUSH_TASK = "apps.accounts.tasks.flush_expired_tokens"
VERIFY_TASK = "apps.accounts.tasks.send_verification_email"
VERIFY_SUBJECT = "Verify your Hangar email address"
STARTUP_TIMEOUT = 60.0

# --- Helpers -------------------------------------------------------------------------------------


def wait_until(check: Callable[[], bool], timeout: float, what: str, logs: dict[str, Path] | None = None) -> None:
    """Poll ``check`` until it holds; on timeout fail with the tail of every subprocess log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}.\n{format_logs(logs or {})}")


def format_logs(logs: dict[str, Path]) -> str:
    """The last lines of each log, labelled, for failure messages."""
    parts = []
    for name, path in logs.items():
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        parts.append(f"----- {name} ({path}) -----\n{text[-4000:]}")
    return "\n".join(parts)


def start_process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a subprocess in the repository root, its stdout and stderr going to ``log``.

    A file, not a pipe: nobody reads a pipe while the test waits, and a full one would block.
    """
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop_processes(procs: list[subprocess.Popen]) -> None:
    """SIGTERM (a warm shutdown for Celery), then SIGKILL whatever is still running after 10 s."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sqlite_rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one statement against a subprocess's SQLite file and commit."""
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


def add_expired_refresh_token(db: Path) -> str:
    """An outstanding refresh token that expired yesterday: ``flush_expired_tokens`` deletes it."""
    jti = uuid.uuid4().hex
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    sqlite_rows(
        db,
        "INSERT INTO token_blacklist_outstandingtoken (token, created_at, expires_at, jti) VALUES (?, ?, ?, ?)",
        ("expired-token", yesterday, yesterday, jti),
    )
    return jti


def token_exists(db: Path, jti: str) -> bool:
    """Whether the outstanding token ``jti`` is still in the SQLite file."""
    return bool(sqlite_rows(db, "SELECT 1 FROM token_blacklist_outstandingtoken WHERE jti = ?", (jti,)))


def add_unverified_user(db: Path, username: str) -> int:
    """Insert an unverified user straight into the SQLite file (the web app is not running)."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    sqlite_rows(
        db,
        "INSERT INTO accounts_user (password, is_superuser, first_name, last_name, is_staff, is_active,"
        " date_joined, username, email, full_name, avatar_url, is_verified, oauth_provider, tier, updated_at)"
        " VALUES ('!', 0, '', '', 0, 1, ?, ?, ?, '', '', 0, '', 'free', ?)",
        (now, username, f"{username}@example.com", now),
    )
    return sqlite_rows(db, "SELECT id FROM accounts_user WHERE username = ?", (username,))[0][0]


# --- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per module; each test copies it (migrating takes ~2 s)."""
    db = tmp_path_factory.mktemp("template") / "template.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO_ROOT,
        env=clean_env(DATABASE_URL=f"sqlite:///{db}"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return db


@pytest.fixture
def file_db(migrated_template, tmp_path) -> Path:
    """A fresh, migrated SQLite file of this test's own."""
    db = tmp_path / "hangar.sqlite3"
    shutil.copy(migrated_template, db)
    return db


@pytest.fixture
def memory_broker():
    """Point the shared Celery app at the embedded default's transports, even in the Redis pass.

    The app caches its connection pool, producer pool and result backend, so those are dropped
    on the way in and out; eager mode (conftest) is switched off so tasks go through the broker.
    """
    conf = celery_app.conf
    saved = (conf.broker_url, conf.result_backend, conf.broker_transport_options, conf.task_always_eager)

    def reset_caches() -> None:
        celery_app._after_fork()  # drops the connection and producer pools
        celery_app._backend_cache = None
        celery_app._local.__dict__.pop("backend", None)

    conf.broker_url, conf.result_backend, conf.broker_transport_options = "memory://", "cache+memory://", {}
    conf.task_always_eager = False
    reset_caches()
    yield
    conf.broker_url, conf.result_backend, conf.broker_transport_options, conf.task_always_eager = saved
    reset_caches()


@pytest.fixture
def embedded(memory_broker, settings, transactional_db) -> Iterator[None]:
    """The embedded worker and beat threads, started exactly as ``manage.py serve`` starts them.

    Both threads use their own database connections (beat reads its schedule from the database),
    so the test database must be reachable outside the test's transaction: transactional_db.
    """
    settings.CELERY_EMBEDDED_WORKER = True
    assert start_embedded_worker() is True
    try:
        yield
    finally:
        stop_embedded_worker()


# --- 1. Embedded default: worker and beat threads in this process ---------------------------------


def test_embedded_worker_is_off_unless_the_embedded_mode_asks(settings):
    settings.CELERY_EMBEDDED_WORKER = False
    assert start_embedded_worker() is False
    assert not embedded_worker._running


def test_embedded_worker_starts_only_once(embedded):
    assert start_embedded_worker() is False
    assert embedded_worker._running["thread"].is_alive()
    assert embedded_worker._running["beat"].is_alive()


def test_registration_email_goes_through_the_embedded_worker(
    embedded, transactional_db, api_client, django_capture_on_commit_callbacks
):
    # transactional_db (also implied by ``embedded``): the worker thread reads the user through
    # its own connection, so the registration must really commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/auth/register",
            {"username": "embedded", "email": "embedded@example.com", "password": "Sturdy-Hangar-42!"},
            format="json",
        )
    assert response.status_code == 201, response.content
    # The task was queued, not run inline: the email arrives from the worker thread.
    wait_until(lambda: len(mail.outbox) == 1, 10, "the verification email from the embedded worker")
    message = mail.outbox[0]
    assert message.subject == VERIFY_SUBJECT
    assert message.to == ["embedded@example.com"]
    assert "/verify-email?token=" in message.body


# --- 2. Production: celery worker and celery beat as separate processes ---------------------------


@pytest.fixture
def broker(tmp_path) -> Iterator[dict[str, str]]:
    """Broker and result settings (as environment variables) the subprocesses and the test share.

    Redis when REDIS_URL is set, isolated from parallel test workers by a unique key prefix (and
    its keys deleted afterwards); otherwise kombu's filesystem transport and the file result
    backend, in this test's tmp dir.
    """
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        url, results = redis_url, redis_url
        options = {"global_keyprefix": f"hangar-test-{uuid.uuid4().hex}:"}
    else:
        folders = {name: tmp_path / name for name in ("broker", "control", "processed", "results")}
        for folder in folders.values():
            folder.mkdir()
        url, results = "filesystem://", f"file://{folders['results']}"
        options = {
            "data_folder_in": str(folders["broker"]),
            "data_folder_out": str(folders["broker"]),
            "control_folder": str(folders["control"]),
            "processed_folder": str(folders["processed"]),
            "store_processed": False,
        }
    yield {
        "CELERY_BROKER_URL": url,
        "CELERY_RESULT_BACKEND": results,
        "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(options),
    }
    if redis_url:
        connection = redis.Redis.from_url(redis_url)
        for key in connection.scan_iter(f"{options['global_keyprefix']}*"):
            connection.delete(key)
        connection.close()


@pytest.fixture
def client_app(broker) -> Iterator[Celery]:
    """A Celery app of the test's own on the subprocesses' broker, to send tasks and read results."""
    # Not the current app: shared tasks resolve through the current app, and the rest of the run
    # must keep finding Hangar's (eager in tests), not this client.
    app = Celery(
        "hangar-test-client",
        broker=broker["CELERY_BROKER_URL"],
        backend=broker["CELERY_RESULT_BACKEND"],
        set_as_current=False,
    )
    app.conf.broker_transport_options = json.loads(broker["CELERY_BROKER_TRANSPORT_OPTIONS"])
    yield app
    app.close()


def test_worker_and_beat_processes(broker, client_app, file_db, tmp_path):
    queue = f"hangar-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}"
    user_id = add_unverified_user(file_db, "production")
    expired_jti = add_expired_refresh_token(file_db)
    env = clean_env(
        **broker,
        DATABASE_URL=f"sqlite:///{file_db}",
        CELERY_EMBEDDED_WORKER="false",
        TOKEN_FLUSH_INTERVAL_SECONDS="1",
    )
    celery = str(VENV_BIN / "celery")
    logs = {"worker": tmp_path / "worker.log", "beat": tmp_path / "beat.log"}
    procs = []
    try:
        # The worker also consumes the default queue, where beat sends; the broker is this test's
        # alone (its own folders, or its own Redis key prefix), so nobody else's tasks land there.
        worker_args = ["--pool", "solo", "-Q", f"{queue},celery", "--hostname", f"{queue}@%h", "--loglevel", "INFO"]
        worker_args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        procs.append(start_process([celery, "-A", "config", "worker", *worker_args], env, logs["worker"]))
        procs.append(start_process([celery, "-A", "config", "beat", "--loglevel", "INFO"], env, logs["beat"]))

        # (a) A task sent from this process runs in the worker process and its result comes back.
        result = client_app.send_task(VERIFY_TASK, args=[user_id], queue=queue)
        try:
            assert result.get(timeout=STARTUP_TIMEOUT) is True
        except Exception as exc:
            pytest.fail(f"{VERIFY_TASK} did not come back: {exc!r}\n{format_logs(logs)}")
        result.forget()  # its result key would otherwise stay in Redis for a day
        # The console email backend wrote the email to the worker's log.
        assert VERIFY_SUBJECT in logs["worker"].read_text()

        # (b) Beat schedules the token flush every second and the worker runs it.
        wait_until(lambda: not token_exists(file_db, expired_jti), STARTUP_TIMEOUT, "beat's token flush", logs)
        assert f"Sending due task flush-expired-tokens ({FLUSH_TASK})" in logs["beat"].read_text()
        assert f"Task {FLUSH_TASK}[" in logs["worker"].read_text()
        for name, proc in zip(logs, procs, strict=True):
            assert proc.poll() is None, f"{name} exited early\n{format_logs(logs)}"
    finally:
        stop_processes(procs)


# --- 3. manage.py serve: HTTP plus the embedded worker and beat in one process --------------------


def post_json(url: str, body: dict) -> int:
    """POST ``body`` as JSON and return the status code."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_serve_runs_http_worker_and_beat_in_one_process(file_db, tmp_path):
    expired_jti = add_expired_refresh_token(file_db)
    # No broker variables: the embedded default. The console email backend prints to stdout.
    with served_hangar(tmp_path, database=file_db, TOKEN_FLUSH_INTERVAL_SECONDS="1") as hangar:
        assert "Embedded Celery worker and beat started in this process." in hangar.log()
        status = post_json(
            f"{hangar.url}/api/v1/auth/register",
            {"username": "served", "email": "served@example.com", "password": "Sturdy-Hangar-42!"},
        )
        assert status == 201
        # The embedded worker ran the task in the server process: the email is on its stdout.
        assert hangar.wait_for_log(VERIFY_SUBJECT), hangar.log()
        assert "/verify-email?token=" in hangar.log()
        # Embedded beat reaches the embedded worker too (same process, same in-memory broker).
        logs = {"serve": hangar.log_path}
        wait_until(lambda: not token_exists(file_db, expired_jti), 10, "embedded beat's token flush", logs)
