"""
Benchmark server processes: starting one pinned to a core, waiting for it
to say it is ready, reading its CPU time and memory from /proc, and
stopping it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import servers
from _contenders import LABELS, Contender

READY_TIMEOUT = 30.0
"""Seconds a server gets to print its READY line."""
STOP_TIMEOUT = 10.0
"""Seconds a server (or profiler) gets to exit after being signalled."""
USAGE_STATUS = 2
"""The exit status of a C{servers.py} that refused its arguments (argparse)."""


@dataclasses.dataclass
class Cores:
    """
    Where things run: the server on one core, the load on another.

    @ivar server: the server's core, or L{None} not to pin it.
    @ivar load: the load generator's (and driver's) core, or L{None}.
    """

    server: int | None = 0
    load: int | None = 1

    def prefix(self, core: int | None) -> list[str]:
        """
        @param core: a core, or L{None}.
        @return: a command prefix pinning a command to C{core}, possibly empty.
        """
        if core is None or shutil.which("taskset") is None:
            return []
        return ["taskset", "-c", str(core)]


# -- /proc ---------------------------------------------------------------------


def cpuSeconds(pid: int) -> float:
    """
    Read a process's user+system CPU time from C{/proc/PID/stat}.

    @param pid: the process.
    @return: CPU seconds consumed so far.
    """
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces and parentheses, so split after the last
    # ")"; utime and stime are fields 14 and 15 of the whole line (proc(5)).
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rssKiB(pid: int) -> int:
    """
    Read a process's resident set size.

    @param pid: the process.
    @return: RSS in KiB, from C{smaps_rollup} when the kernel has it, else
        C{VmRSS} from C{/proc/PID/status}.
    @raise RuntimeError: if neither file gives a figure.
    """
    for name, key in (("smaps_rollup", "Rss:"), ("status", "VmRSS:")):
        try:
            text = Path(f"/proc/{pid}/{name}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    raise RuntimeError(f"no RSS figure for pid {pid}")


# -- server processes ------------------------------------------------------------


class ServerUnavailableError(Exception):
    """
    The implementation cannot serve this kind yet (the server said so).
    """


class ServerRejectedError(ServerUnavailableError):
    """
    The server's C{servers.py} refused its command line: a baseline
    checkout's, older than this one, that does not know the kind.
    """


class ServerFailedError(Exception):
    """
    The server process failed to start or to answer correctly.
    """


@dataclasses.dataclass
class Server:
    """
    A running benchmark server.

    @ivar impl: the implementation name.
    @ivar kind: the kind of workload.
    @ivar process: the process we started.
    @ivar port: the port it listens on.
    @ivar pid: the server's own process id, as it reported it (C{taskset}
        execs the server, so this is C{process.pid}).
    @ivar log: the file holding its standard output and error.
    @ivar label: the display name.
    """

    impl: str
    kind: str
    process: subprocess.Popen[bytes]
    port: int
    pid: int
    log: Path
    label: str

    @property
    def path(self) -> str:
        """
        @return: the URL path the hello-world answer lives at.
        """
        return servers.PATHS[self.kind]


def tail(path: Path, lines: int = 15) -> str:
    """
    @return: the last lines of a log file, indented for a report.
    """
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def stopProcess(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """
    Stop a process we started: signal it, wait with a deadline, then kill it.

    The process was started in a session of its own, so anything it started
    is killed with it.

    @param process: the process.
    @param sig: the first signal to send.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def runServer(
    impl: str,
    kind: str,
    cores: Cores,
    workdir: Path,
    extra: Sequence[str] = (),
    contender: Contender | None = None,
) -> Iterator[Server]:
    """
    Run a benchmark server for the duration of a block, then stop it.

    @param impl: the implementation name.
    @param kind: the kind of workload.
    @param cores: where to pin it.
    @param workdir: where to keep the server's log.
    @param extra: more arguments for L{servers.main}.
    @param contender: the server, when it is not C{impl} served by this
        checkout's C{servers.py} (a baseline's, say).
    @raise ServerUnavailableError: if the implementation lacks the kind.
    @raise ServerFailedError: if the server does not start.
    """
    if contender is None:
        contender = Contender(-1, impl, LABELS.get(impl, impl))
    prefix = f"{contender.label.replace('/', '_')}-{kind}-"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".log", dir=workdir)
    log = Path(name)
    argv = [
        *cores.prefix(cores.server),
        sys.executable,
        str(contender.script),
        impl,
        kind,
        "0",
        *extra,
    ]
    process = spawnLogged(argv, fd)
    try:
        port, pid = awaitReady(process, log)
        yield Server(impl, kind, process, port, pid, log, contender.label)
    finally:
        stopProcess(process)


def spawnLogged(argv: Sequence[str], fd: int) -> subprocess.Popen[bytes]:
    """
    Start a server in a session of its own (so L{stopProcess} kills all it
    starts), its output and errors going to the open file C{fd}, which this
    closes.

    @return: the process.
    """
    with os.fdopen(fd, "wb") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def awaitReady(process: subprocess.Popen[bytes], log: Path) -> tuple[int, int]:
    """
    Wait, with a deadline, for a server to say it is ready.

    @return: its port and process id.
    @raise ServerUnavailableError: if it said it cannot serve the kind.
    @raise ServerRejectedError: if it refused its command line (a
        C{servers.py} that does not know the kind).
    @raise ServerFailedError: if it exited or stayed silent.
    """
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("READY "):
                _, port, pid = line.split()
                return int(port), int(pid)
            if line.startswith("UNAVAILABLE "):
                raise ServerUnavailableError(line.removeprefix("UNAVAILABLE "))
        if process.poll() is not None:
            if process.returncode == USAGE_STATUS and "usage:" in tail(log):
                raise ServerRejectedError(tail(log, 1).strip())
            raise ServerFailedError(
                f"server exited with status {process.returncode}:\n{tail(log)}"
            )
        time.sleep(0.05)
    raise ServerFailedError(f"server not ready after {READY_TIMEOUT}s:\n{tail(log)}")
