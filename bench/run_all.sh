#!/usr/bin/env bash
# Run every Hangar benchmark in turn; each prints its table and writes bench/results/<name>.json.
# Usage (from anywhere): bench/run_all.sh   (PYTHON=... to use another interpreter)
set -u
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
status=0
for bench in env_create_to_terminal terminal_echo idle_environments stop_cleanup builds notebook_deploy proxy_overhead ingestion job_overhead; do
    echo "### bench/${bench}.py"
    "$PYTHON" "bench/${bench}.py" || status=$?
done
exit "$status"
