"""Launching a bubblewrap sandbox, and its slirp4netns network, detached from the caller.

The sandbox must outlive whichever Hangar process started it (a worker recycles, the server
restarts), so it is started through ``setsid -f``: the launcher exits at once and the sandbox is
re-parented to init. Before ``exec``, the launcher moves itself into the workload's cgroups, so
every process the workload ever creates is limited and can be found and killed. Inside, the agent
is PID 2 of a fresh PID namespace whose init is bwrap: killing that init kills the whole sandbox
at once, so nothing can be left behind.
"""

import json
import os
import select
import shutil
import socket
import subprocess
import time
from pathlib import Path

from apps.runtime.errors import RuntimeBackendError
from apps.runtime.images import ImageSource
from apps.runtime.spec import NetworkPolicy, WorkloadSpec

AGENT_SOURCE = Path(__file__).resolve().parent.parent / "agent" / "hangar_agent.py"
SANDBOX_RUN_DIR = "/run/hangar"
SANDBOX_AGENT = "/opt/hangar/hangar_agent.py"
SANDBOX_UID = 1000
# Joins the cgroups named in $1 (colon-separated cgroup.procs files), writes its PID to the file
# named in $2 (if any), then becomes the command.
LAUNCHER = (
    'procs=$1; pidfile=$2; shift 2; IFS=:; for f in $procs; do echo $$ > "$f"; done; unset IFS; '
    '[ -n "$pidfile" ] && echo $$ > "$pidfile"; exec "$@"'
)
# Host files a sandbox sees read-only under /etc; the rest of /etc stays hidden.
ETC_FILES = (
    "ssl",
    "ca-certificates",
    "alternatives",
    "ld.so.cache",
    "localtime",
    "bash.bashrc",
    "profile",
    "profile.d",
    "inputrc",
    "nsswitch.conf",
    "host.conf",
    "mime.types",
    "terminfo",
)


def bubblewrap_available() -> bool:
    """True when the bwrap executable is installed."""
    return shutil.which("bwrap") is not None


def write_etc(run_dir: Path, spec: WorkloadSpec) -> Path:
    """Generated /etc files: a user for the sandbox uid, the hostname, and slirp's DNS."""
    etc = run_dir / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text(
        f"root:x:0:0:root:/root:/bin/sh\nhangar:x:{SANDBOX_UID}:{SANDBOX_UID}::/workspace:/bin/bash\n"
    )
    (etc / "group").write_text(f"root:x:0:\nhangar:x:{SANDBOX_UID}:\n")
    (etc / "hostname").write_text(f"{spec.id}\n")
    (etc / "hosts").write_text(f"127.0.0.1 localhost {spec.id}\n::1 localhost\n")
    (etc / "resolv.conf").write_text("nameserver 10.0.2.3\n")
    return etc


def _system_binds(source: ImageSource) -> list[str]:
    """Read-only binds of the system: the host's /usr (and its /bin, /lib links) or a rootfs."""
    if source.rootfs is not None:
        return ["--ro-bind", str(source.rootfs), "/"]
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), f"/{name}"]
        elif path.is_dir():
            args += ["--ro-bind", str(path), f"/{name}"]
    for name in ETC_FILES:
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return args


def bwrap_argv(spec: WorkloadSpec, run_dir: Path, source: ImageSource) -> list[str]:
    """The full bubblewrap command line for ``spec``.

    An ``egress`` workload's network namespace is made by ``unshare --net`` around bwrap instead
    (see ``network_prefix``): a namespace bwrap creates under the sandbox's user namespace cannot be
    joined by slirp4netns once the sandbox runs as an unprivileged uid.
    """
    etc = write_etc(run_dir, spec)
    args = ["bwrap", *_system_binds(source)]
    for name in ("passwd", "group", "hostname", "hosts", "resolv.conf"):
        args += ["--ro-bind", str(etc / name), f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run"]
    args += ["--bind", str(run_dir), SANDBOX_RUN_DIR, "--bind", spec.workspace, "/workspace"]
    for target, host_path in sorted(spec.mounts.items()):
        args += ["--bind", host_path, target]
    for target, host_path in sorted(spec.ro_mounts.items()):
        args += ["--ro-bind", host_path, target]
    args += ["--ro-bind", str(AGENT_SOURCE), SANDBOX_AGENT]
    args += ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    if not needs_network(spec):
        args.append("--unshare-net")
    args += ["--unshare-cgroup-try", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    args += ["--hostname", spec.id[:63], "--cap-drop", "ALL", "--new-session", "--chdir", "/workspace"]
    args += ["--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME", "/workspace"]
    args += ["--setenv", "LANG", "C.UTF-8", "--setenv", "HANGAR_WORKLOAD_ID", spec.id]
    return args


def network_prefix(spec: WorkloadSpec) -> list[str]:
    """What goes before ``bwrap``: a host-owned network namespace for ``egress`` workloads."""
    return ["unshare", "--net", "--"] if needs_network(spec) else []


def launch_detached(
    argv: list[str],
    *,
    cgroup_procs: list[str],
    log: Path,
    pass_fds: tuple[int, ...] = (),
    pidfile: Path | None = None,
) -> None:
    """Start ``argv`` in a new session, inside the given cgroups, re-parented away from us."""
    with log.open("ab") as out:
        launcher = subprocess.Popen(
            ["setsid", "-f", "sh", "-c", LAUNCHER, "hangar-launch", ":".join(cgroup_procs), str(pidfile or ""), *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            pass_fds=pass_fds,
            close_fds=True,
        )
    if launcher.wait(timeout=10) != 0:
        raise RuntimeBackendError("The sandbox could not be started", detail=log.read_text(errors="replace")[-2000:])


def read_json_fd(fd: int, *, timeout: float) -> dict:
    """Read one JSON object that bwrap writes to ``fd`` (its --info-fd)."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
        try:
            return json.loads(data)
        except ValueError:
            continue
    raise RuntimeBackendError("The sandbox did not start in time", detail=data.decode(errors="replace"))


def start_network(netns_pid: int, *, run_dir: Path, cgroup_procs: list[str], log: Path) -> Path:
    """Attach slirp4netns to ``netns_pid``'s network namespace: internet egress, with the host's
    loopback services unreachable."""
    if shutil.which("slirp4netns") is None:
        raise RuntimeBackendError(
            "Network egress needs slirp4netns, which is not installed", code="NETWORK_UNAVAILABLE"
        )
    api = run_dir / "slirp.sock"
    ready_r, ready_w = os.pipe()
    try:
        argv = ["slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback"]
        argv += ["--api-socket", str(api), f"--ready-fd={ready_w}", str(netns_pid), "tap0"]
        launch_detached(argv, cgroup_procs=cgroup_procs, log=log, pass_fds=(ready_w,))
        os.close(ready_w)
        ready_w = -1
        ready, _, _ = select.select([ready_r], [], [], 5)
        if not ready or os.read(ready_r, 1) != b"1":
            raise RuntimeBackendError(
                "The sandbox network did not come up", detail=log.read_text(errors="replace")[-2000:]
            )
    finally:
        os.close(ready_r)
        if ready_w >= 0:
            os.close(ready_w)
    return api


def publish_port(api: Path, guest_port: int) -> int:
    """Forward a free host 127.0.0.1 port to ``guest_port`` in the sandbox; returns the host port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        host_port = probe.getsockname()[1]
    request = {
        "execute": "add_hostfwd",
        "arguments": {"proto": "tcp", "host_addr": "127.0.0.1", "host_port": host_port, "guest_port": guest_port},
    }
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(api))
        sock.sendall(json.dumps(request).encode())
        answer = json.loads(sock.recv(4096) or b"{}")
    if "error" in answer:
        raise RuntimeBackendError("The port could not be published", detail=json.dumps(answer))
    return host_port


def needs_network(spec: WorkloadSpec) -> bool:
    """Only ``egress`` workloads get slirp4netns; ``none`` keeps just a private loopback."""
    return spec.network == NetworkPolicy.EGRESS
