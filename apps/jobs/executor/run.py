"""The training process: ``python -m apps.jobs.executor.run <job_id> <spec.json>``.

Started by the supervisor in its own session (so a cancel kills its whole process group), it reads
the spec, trains, and reports on stdout (see :mod:`apps.jobs.executor.protocol`). It never sets
Django up nor touches the database. Exit status: 0 done, 2 a problem with the data or plan, 1 anything else.
"""

import json
import os
import signal
import sys
import threading
import time
import traceback

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
# The supervisor enforces the time limit; this later alarm only ends a process it can no longer stop.
_ALARM_GRACE_SECONDS = 60


def _guard(time_limit: float, parent: int) -> None:
    """End this process (and its process group) if its supervisor dies or far past the time limit.

    The process runs in a session of its own, so a supervisor killed outright (a worker lost with
    SIGKILL) would otherwise leave it training with nobody to report to.
    """
    if time_limit > 0:
        signal.alarm(int(time_limit) + _ALARM_GRACE_SECONDS)

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    """Run one job's training from its spec file; returns the exit status."""
    if len(argv) != 2:
        sys.stderr.write("usage: python -m apps.jobs.executor.run <job_id> <spec.json>\n")
        return EXIT_BAD_INPUT
    # The parent is read first: a supervisor that dies while this process starts is noticed too.
    parent = os.getppid()
    with open(argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    _guard(float(spec.get("time_limit_seconds") or 0), parent)
    # No Django here: the plugin catalogue and the training are plain Python with scikit-learn,
    # which keeps the start of every job short.
    from apps.jobs.executor.protocol import Emitter
    from apps.jobs.executor.train import Training, TrainingError

    emitter = Emitter()
    try:
        payload = Training(spec, emitter).run()
    except TrainingError as exc:
        emitter.emit("error", message=str(exc))
        return EXIT_BAD_INPUT
    except Exception as exc:  # reported to the supervisor, which fails the job with the message
        traceback.print_exc()
        emitter.emit("error", message=f"{type(exc).__name__}: {exc}")
        return EXIT_FAILED
    emitter.emit("result", **payload)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
