"""
Upload and idle-memory runs: large POSTs timed while the server's peak
memory is watched, and memory per idle keep-alive connection.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import time
from pathlib import Path
from typing import IO

import _static
import servers
from _contenders import contenders
from _loadgen import MIB, LoadError, idleMemory
from _process import (
    Cores,
    Server,
    ServerFailedError,
    ServerUnavailableError,
    cpuSeconds,
    rssKiB,
)
from _runs import startChecked
from _table import Row

IDLE_WARMUP = 20
"""Connections used and closed before the idle-memory baseline."""
SETTLE_SECONDS = 0.5
"""Pause before reading a server's idle memory."""


@dataclasses.dataclass
class UploadRun:
    """
    What one upload observed.

    @ivar seconds: from connecting to the complete answer.
    @ivar cpuSeconds: server user+system CPU seconds meanwhile.
    @ivar peakKiB: the server's highest resident memory meanwhile.
    @ivar idleKiB: the server's resident memory before its first upload.
    """

    seconds: float
    cpuSeconds: float
    peakKiB: int
    idleKiB: int

    @property
    def overIdleMiB(self) -> float:
        """
        @return: peak resident memory above idle, in MiB.
        """
        return (self.peakKiB - self.idleKiB) / 1024


def runUpload(
    args: argparse.Namespace, cores: Cores, workdir: Path, log: IO[str]
) -> list[Row]:
    """
    Time large uploads on every contender and watch their memory.

    All the servers are up at once and the uploads alternate between them.
    Each server's idle memory is read once, after its check and before its
    first upload; each upload's peak is compared with it.

    @return: the report rows.
    """
    kind = servers.UPLOAD_KIND
    size = args.upload_mib * MIB
    rows = {
        "rate": Row(kind, f"POST {args.upload_mib} MiB", "MiB/s", ">=1x", key="rate"),
        "cpu": Row(kind, f"POST {args.upload_mib} MiB server CPU", "ms/GiB"),
        "mem": Row(kind, "peak RSS over idle", "MiB", "a few MiB", key="mem"),
    }
    with contextlib.ExitStack() as stack:
        running: dict[int, Server] = {}
        idle: dict[int, int] = {}
        for c in contenders(args):
            try:
                server = startChecked(stack, c, kind, cores, workdir, args)
                time.sleep(SETTLE_SECONDS)
                idle[c.slot] = _static.statusKiB(server.pid, "VmRSS")
            except ServerUnavailableError as e:
                print(f"  {kind}: {c.label} not available ({e})", file=log)
                for row in rows.values():
                    row.figures[c.slot] = c.missing
                continue
            except (ServerFailedError, OSError, RuntimeError) as e:
                print(f"  {kind}: {c.label} FAILED: {e}", file=log)
                for row in rows.values():
                    row.figures[c.slot] = "FAILED"
                continue
            running[c.slot] = server

        results: dict[int, list[UploadRun]] = {slot: [] for slot in running}
        for _ in range(args.uploads):
            for slot, server in running.items():
                try:
                    before = cpuSeconds(server.pid)
                    with _static.PeakMemory(server.pid) as peak:
                        seconds = _static.upload(
                            server.port, server.path, size, args.upload_deadline
                        )
                    run = UploadRun(
                        seconds,
                        cpuSeconds(server.pid) - before,
                        peak.peakKiB,
                        idle[slot],
                    )
                except (LoadError, OSError) as e:
                    print(f"  {kind}: {server.label} FAILED: {e}", file=log)
                    continue
                results[slot].append(run)
                rate = args.upload_mib / run.seconds
                print(
                    f"  {kind:8} {'POST':19} {server.label:16}"
                    f" {run.seconds:7.3f} s  {rate:7,.0f} MiB/s"
                    f"  cpu {run.cpuSeconds:6.3f} s"
                    f"  RSS idle {run.idleKiB / 1024:6.1f} MiB,"
                    f" peak {run.peakKiB / 1024:6.1f} MiB"
                    f" (+{run.overIdleMiB:.2f}; {peak.samples} samples"
                    f"{', VmHWM' if peak.usedHighWater else ''})",
                    file=log,
                    flush=True,
                )
        for slot, got in results.items():
            if not got:
                for row in rows.values():
                    row.figures[slot] = "FAILED"
                continue
            median = sorted(got, key=lambda r: r.seconds)[len(got) // 2]
            rows["rate"].figures[slot] = args.upload_mib / median.seconds
            # /proc counts CPU time in ticks (10 ms) and an upload takes tens
            # of them at most: charge all the uploads' CPU to all their bytes.
            gib = len(got) * args.upload_mib / 1024
            rows["cpu"].figures[slot] = 1e3 * sum(r.cpuSeconds for r in got) / gib
            rows["mem"].figures[slot] = max(r.overIdleMiB for r in got)
            if len(got) < args.uploads:
                rows["rate"].notes.append(
                    f"{running[slot].label}: {args.uploads - len(got)} uploads failed"
                )
    return list(rows.values())


def runIdleMemory(
    kind: str,
    args: argparse.Namespace,
    cores: Cores,
    workdir: Path,
    log: IO[str],
) -> Row:
    """
    Measure memory per idle keep-alive connection, each on a fresh server.

    @return: the report row.
    """
    count = args.idle_connections
    row = Row(kind, f"idle keep-alive x{count}", "KiB/conn", "<=1x", key="idle")
    for c in contenders(args, kind, "idle"):
        slot, label = c.slot, c.label
        try:
            with contextlib.ExitStack() as stack:
                server = startChecked(stack, c, kind, cores, workdir, args)
                idle = idleMemory(
                    server.port,
                    server.path,
                    count,
                    IDLE_WARMUP,
                    functools.partial(rssKiB, server.pid),
                )
        except ServerUnavailableError:
            row.figures[slot] = c.missing
            continue
        except (ServerFailedError, LoadError, OSError, RuntimeError) as e:
            print(f"  {kind} idle: {label} FAILED: {e}", file=log)
            row.figures[slot] = "FAILED"
            continue
        row.figures[slot] = idle.kibPerConnection
        print(
            f"  {kind:8} {'idle':14} {label:16} RSS {idle.before:,} -> {idle.after:,}"
            f" KiB over {idle.open} open connections:"
            f" {idle.kibPerConnection:.2f} KiB/conn",
            file=log,
            flush=True,
        )
        if idle.open < count:
            row.notes.append(
                f"{label}: only {idle.open} of {count} connections"
                f" open when measured ({idle.established} established)"
            )
    return row
