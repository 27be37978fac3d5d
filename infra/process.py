"""Processes and ports on this machine: detached launches, pid files, signals, logs, locks.

Stdlib only. Reads /proc (Linux) for command lines, zombie state and socket owners.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

# Children started by this Python process, kept so they are reaped (no zombies) and
# Popen does not warn about still-running children when garbage-collected.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


# --------------------------------------------------------------------------- addresses


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """`host:port` (first entry of a comma-separated list; `[v6]:port` allowed)."""
    first = address.split(",")[0].strip()
    if not first:
        raise ValueError(f"empty address: {address!r}")
    if first.startswith("["):
        host, _, rest = first[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port else default_port
    if first.count(":") == 1:
        host, port = first.split(":")
        return host or "127.0.0.1", int(port)
    return first, default_port


def is_local_host(host: str) -> bool:
    return host in {"localhost", "::1"} or host.startswith("127.")


def bind_host(host: str) -> str:
    """The address to listen on for an advertised host (`localhost` -> 127.0.0.1)."""
    return "127.0.0.1" if host == "localhost" else host


def port_in_use(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((bind_host(host), port), timeout=timeout):
            return True
    except OSError:
        return False


def port_owner(port: int) -> str | None:
    """Best effort (Linux /proc): 'pid N (command line)' of the process listening on `port`."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    cmd = command_line(int(proc.name)) or "?"
                    return f"pid {proc.name} ({cmd[:120]})"
        except OSError:
            continue
    return None


# --------------------------------------------------------------------------- processes


def exit_code(pid: int) -> int | None:
    """Exit code if `pid` is our child and has exited (reaping it), else None."""
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll()
    with contextlib.suppress(ChildProcessError, OSError):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return os.waitstatus_to_exitcode(status)
    return None


def command_line(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def pid_alive(pid: int) -> bool:
    """True when `pid` runs (zombies count as dead and are reaped when ours)."""
    if exit_code(pid) is not None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    state = stat.rpartition(")")[2].split()[:1]
    return state != ["Z"]


def pid_from_file(pid_file: Path, marker: str) -> int | None:
    """The pid in `pid_file` when that process is alive and `marker` is in its command line."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if not pid_alive(pid):
        return None
    cmd = command_line(pid)
    if cmd is not None and marker not in cmd:
        return None  # the pid was reused by something else
    return pid


def launch(argv: Sequence[str], cwd: Path, out_file: Path, pid_file: Path) -> int:
    """Start `argv` detached (own session), output appended to `out_file`; returns its pid."""
    cwd.mkdir(parents=True, exist_ok=True)
    with out_file.open("ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
        out.flush()
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,  # detached: survives this shell, own process group
            close_fds=True,
        )
    _CHILDREN[child.pid] = child
    pid_file.write_text(f"{child.pid}\n")
    return child.pid


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(pid) == pid:  # started in its own session: signal the whole group
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def terminate(pid: int, timeout: float) -> tuple[float, bool]:
    """SIGTERM, wait up to `timeout`, then SIGKILL. Returns (seconds, killed)."""
    started = time.monotonic()
    try:
        _signal(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0.0, False
    while time.monotonic() - started < timeout:
        if not pid_alive(pid):
            _CHILDREN.pop(pid, None)
            return time.monotonic() - started, False
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    _CHILDREN.pop(pid, None)
    return time.monotonic() - started, True


def run(argv: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """Run `argv` to completion without input; returns (exit code, stdout + stderr)."""
    result = subprocess.run(
        list(argv), stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False
    )
    return result.returncode, (result.stdout + result.stderr).decode("utf-8", "replace").strip()


# --------------------------------------------------------------------------- files


def tail(paths: Sequence[Path], lines: int = 30) -> str:
    """The last `lines` lines of each existing file, with a header per file."""
    chunks = []
    for path in paths:
        try:
            with path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 64 * 1024))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        last = text.splitlines()[-lines:]
        if last:
            chunks.append(f"--- last lines of {path} ---\n" + "\n".join(last))
    return "\n".join(chunks) if chunks else "(no log output yet)"


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder`/.lock (other processes wait), creating the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
