"""From inside a workload, each of these must fail. Real sandboxes, no mocks."""

import random
import socket
import subprocess
import time

import pytest

from apps.runtime.backends import cgroups
from apps.runtime.spec import NetworkPolicy, Phase

CONNECT = "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2); print('CONNECTED')"


def connect_from(backend, workload_id: str, host: str, port: int) -> str:
    return backend.exec(workload_id, ["python3", "-c", CONNECT, host, str(port)], timeout=10)[1]


def test_another_workloads_workspace_is_invisible(backend, start, runtime_root):
    victim = start()
    (runtime_root / "ws" / victim.id / "secret.txt").write_text("top secret")
    intruder = start()
    code, output = backend.exec(intruder.id, ["cat", f"{victim.workspace}/secret.txt"])
    assert code != 0 and "top secret" not in output
    assert backend.exec(intruder.id, ["ls", "-A", "/workspace"])[1] == ""


def test_the_platforms_code_database_and_settings_are_invisible(backend, start, settings):
    spec = start()
    targets = [str(settings.BASE_DIR / "config" / "settings.py"), str(settings.BASE_DIR / "db.sqlite3")]
    for target in [*targets, "/var/run/postgresql/.s.PGSQL.5432", "/etc/shadow"]:
        code, _ = backend.exec(spec.id, ["sh", "-c", f"test -e '{target}'"])
        assert code != 0, target


@pytest.mark.parametrize("network", [NetworkPolicy.NONE, NetworkPolicy.EGRESS])
def test_host_services_are_unreachable(backend, start, network, live_hangar_port):
    spec = start(network=network)
    for host in ("127.0.0.1", "10.0.2.2"):
        for port in (5432, 6379, live_hangar_port):
            assert "CONNECTED" not in connect_from(backend, spec.id, host, port), (host, port)


def test_network_none_has_no_network_at_all(backend, start):
    spec = start(network=NetworkPolicy.NONE)
    _code, output = backend.exec(spec.id, ["sh", "-c", "cat /proc/net/dev | tail -n +3 | cut -d: -f1"])
    assert output.split() == ["lo"]


def test_a_fork_bomb_is_contained_and_the_platform_stays_responsive(backend, start):
    spec = start(pids=64)
    bomb = "bomb() { bomb | bomb & }; bomb"
    began = time.monotonic()
    backend.exec(spec.id, ["bash", "-c", bomb], timeout=3)
    assert cgroups.usage(spec.id)["pids"] <= 64
    host_started = time.monotonic()
    subprocess.run(["true"], check=True)
    assert time.monotonic() - host_started < 1
    backend.stop(spec.id)
    assert cgroups.pids(spec.id) == []
    assert time.monotonic() - began < 15


def test_allocating_past_the_memory_limit_is_oom_killed_and_reported(backend, start):
    spec = start(memory_bytes=64 * 1024**2)
    backend.exec(spec.id, ["python3", "-c", "x = bytearray(256 * 1024 * 1024)"], timeout=20)
    deadline = time.monotonic() + 5
    while (status := backend.status(spec.id)).phase == Phase.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (status.phase, status.reason) == (Phase.ERROR, "OOMKilled")
    assert cgroups.pids(spec.id) == []


def test_nothing_survives_stop(backend, start):
    spec = start(network=NetworkPolicy.EGRESS)
    tag = str(random.randint(10**6, 10**7))  # sleeps no other test run would start
    daemons = f"setsid sleep {tag}1 & nohup sleep {tag}2 & (sleep {tag}3 &) ; true"
    backend.exec(spec.id, ["sh", "-c", daemons])
    assert len(subprocess.run(["pgrep", "-f", f"sleep {tag}"], capture_output=True, text=True).stdout.split()) == 3
    backend.stop(spec.id)
    assert cgroups.pids(spec.id) == []
    leftovers = subprocess.run(["pgrep", "-f", f"sleep {tag}|{spec.id}"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", leftovers.stdout


@pytest.fixture
def live_hangar_port():
    """A listening socket standing for Hangar's own port on the host's loopback."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]
