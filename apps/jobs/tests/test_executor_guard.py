"""The training process never outlives its supervisor: when the process that started it is killed
outright (a worker lost to SIGKILL), it ends itself within seconds instead of training on alone."""

import json
import signal
import subprocess
import sys
import time

import psutil

from apps.jobs.tests.job_fixtures import slow_frame

# A stand-in supervisor: starts the training process the way Supervisor does, prints its pid, waits.
_SUPERVISOR = """
import subprocess, sys, time
child = subprocess.Popen(
    [sys.executable, "-m", "apps.jobs.executor.run", "guard-test", sys.argv[1]],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
)
print(child.pid, flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_training_process_ends_when_its_supervisor_is_killed(tmp_path):
    data = tmp_path / "slow.parquet"
    slow_frame().to_parquet(data)
    plan = {
        "problem_type": "classification",
        "target_column": "label",
        "dataset_node_id": "d1",
        "preprocessing": [],
        "models": [{"node_id": "gb", "plugin": "gradient_boosting", "params": {"n_estimators": 1000}}],
        "metrics": ["accuracy"],
        "plots": [],
        "cv_folds": 10,
        "test_size": 0.2,
    }
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"plan": plan, "data_path": str(data), "output_dir": str(tmp_path / "out")}))
    supervisor = subprocess.Popen([sys.executable, "-c", _SUPERVISOR, str(spec)], stdout=subprocess.PIPE, text=True)
    child = None
    try:
        child = int(supervisor.stdout.readline())
        time.sleep(1)
        assert not _gone(child), "the training process should be running"
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(child), "the training process outlived its supervisor"
    finally:
        supervisor.kill()
        if child is not None and not _gone(child):
            psutil.Process(child).kill()
