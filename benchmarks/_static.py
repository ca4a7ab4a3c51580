"""
The static-file and upload workloads: the files served, and the upload client.

L{makeTree} writes the directory the static kinds publish (a fresh one per
run, which the driver deletes afterwards) and says how to check each kind's
answer.  L{upload} sends one large request body with a deadline, while a
L{PeakMemory} watches the server's resident memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _loadgen import MIB, OP_TIMEOUT, LoadError, ResponseCounter

SMALL_SIZE = 1024
"""Bytes in the C{file1k} file."""
BIG_SIZE = 10 * MIB
"""Bytes in the C{file10m} file."""
LISTING_FILES = 200
"""Files in the directory the C{listing} kind lists."""
UPLOAD_CHUNK = 256 * 1024
"""Bytes the upload client hands to C{sendall} at a time."""
SAMPLE_INTERVAL = 0.002
"""Seconds between two readings of the server's resident memory."""

_LISTING_EXTENSIONS = (".txt", ".html", ".css", ".js", ".png", ".json", ".gz", "")

Check = Callable[[bytes], "str | None"]
"""Given a response body: L{None} when it is right, else what is wrong."""


def _pattern(size: int) -> bytes:
    """
    @param size: how many bytes.
    @return: C{size} bytes of a repeating, not-all-equal pattern.
    """
    block = bytes(range(256))
    return (block * (size // len(block) + 1))[:size]


def _equals(expected: bytes) -> Check:
    """
    @return: a check that the body is exactly C{expected}.
    """

    def check(body: bytes) -> str | None:
        if body == expected:
            return None
        return f"body of {len(body):,} bytes is not the {len(expected):,} expected"

    return check


def _lists(names: list[str]) -> Check:
    """
    @return: a check that the body is an HTML page naming every one of C{names}.
    """

    def check(body: bytes) -> str | None:
        missing = [n for n in names if n.encode() not in body]
        if missing:
            return f"listing lacks {len(missing)} names, such as {missing[0]!r}"
        return None

    return check


def makeTree(root: Path) -> dict[str, Check]:
    """
    Write the files the static kinds serve.

    C{root/small.bin} (1 KiB), C{root/big.bin} (10 MiB) and C{root/listing/},
    a directory of L{LISTING_FILES} small files of various types and sizes.

    @param root: an empty directory.
    @return: for each static kind, the check of its response body.
    """
    (root / "small.bin").write_bytes(_pattern(SMALL_SIZE))
    (root / "big.bin").write_bytes(_pattern(BIG_SIZE))
    listing = root / "listing"
    listing.mkdir()
    names = []
    for i in range(LISTING_FILES):
        name = f"file-{i:03d}{_LISTING_EXTENSIONS[i % len(_LISTING_EXTENSIONS)]}"
        (listing / name).write_bytes(_pattern(37 * i))
        names.append(name)
    return {
        "file1k": _equals(_pattern(SMALL_SIZE)),
        "file10m": _equals(_pattern(BIG_SIZE)),
        "listing": _lists(names),
    }


def uploadRequest(port: int, path: str, size: int) -> bytes:
    """
    @param port: the server's port.
    @param path: the URL path.
    @param size: the body's length.
    @return: the head of a POST with a C{size}-byte body.
    """
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/octet-stream\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()


def checkUpload(body: bytes) -> str | None:
    """
    Check the answer to the small upload L{checkRequest} sends.
    """
    return None if body == b"%d" % (SMALL_SIZE,) else f"answered {body[:80]!r}"


def checkRequest(port: int, path: str) -> bytes:
    """
    @return: a small upload, for checking the upload server before loading it.
    """
    return uploadRequest(port, path, SMALL_SIZE) + _pattern(SMALL_SIZE)


def upload(port: int, path: str, size: int, deadline: float) -> float:
    """
    POST a C{size}-byte body on a new connection and wait for the answer.

    The body is sent in L{UPLOAD_CHUNK} pieces of one buffer, so the client
    never holds more than that; every socket operation has a timeout, and the
    whole upload a deadline.

    @param port: the server's port.
    @param path: the URL path.
    @param size: the body's length.
    @param deadline: seconds the whole upload may take.
    @return: seconds from connecting to the complete answer.
    @raise LoadError: if it fails, overruns, or the server answers anything
        but 200 with the body's length.
    """
    chunk = memoryview(_pattern(UPLOAD_CHUNK))
    counter = ResponseCounter()
    start = time.perf_counter()
    end = start + deadline
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=OP_TIMEOUT) as s:
            s.sendall(uploadRequest(port, path, size))
            sent = 0
            while sent < size:
                if time.perf_counter() > end:
                    raise LoadError(f"upload overran {deadline:g}s at {sent:,} bytes")
                n = min(UPLOAD_CHUNK, size - sent)
                s.sendall(chunk[:n])
                sent += n
            while not counter.completed:
                if time.perf_counter() > end:
                    raise LoadError(f"no answer within {deadline:g}s")
                data = s.recv(65536)
                if not data:
                    raise LoadError("server closed the connection before answering")
                counter.feed(data)
    except (OSError, ValueError) as e:
        raise LoadError(f"upload failed: {type(e).__name__}: {e}") from e
    elapsed = time.perf_counter() - start
    if counter.lastStatus != 200 or counter.lastBody != b"%d" % (size,):
        raise LoadError(
            f"upload answered {counter.lastStatus} {counter.lastBody[:80]!r}"
        )
    return elapsed


def statusKiB(pid: int, key: str) -> int:
    """
    Read one memory figure from C{/proc/PID/status}.

    @param pid: the process.
    @param key: the field, such as C{"VmRSS"} or C{"VmHWM"}.
    @return: its value in KiB.
    @raise RuntimeError: if the field is not there.
    """
    prefix = key + ":"
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(prefix):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for pid {pid}")


@dataclasses.dataclass
class PeakMemory:
    """
    The highest resident memory a process reaches during a block.

    Reads C{VmRSS} every L{SAMPLE_INTERVAL} in a thread.  When the kernel lets
    us reset the process's high-water mark (C{/proc/PID/clear_refs}), it also
    reads C{VmHWM} at the end, which catches a peak between two samples.

    @ivar pid: the process watched.
    @ivar peakKiB: the highest resident memory seen, in KiB.
    @ivar samples: readings taken.
    @ivar usedHighWater: whether C{VmHWM} was reset and read.
    """

    pid: int
    peakKiB: int = 0
    samples: int = 0
    usedHighWater: bool = False

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._sample, name="rss-sampler", daemon=True
        )

    def _sample(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            while not self._stopping.is_set():
                self.peakKiB = max(self.peakKiB, statusKiB(self.pid, "VmRSS"))
                self.samples += 1
                self._stopping.wait(SAMPLE_INTERVAL)

    def __enter__(self) -> PeakMemory:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self.usedHighWater = True
        except OSError:
            self.usedHighWater = False
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(OP_TIMEOUT)
        if self.usedHighWater:
            with contextlib.suppress(OSError, RuntimeError):
                self.peakKiB = max(self.peakKiB, statusKiB(self.pid, "VmHWM"))
