"""
HTTP clients for the benchmarks: wrk, a Python fallback, and idle connections.

Everything here speaks to one server on 127.0.0.1 and is bounded in time: each
load run lasts a fixed number of seconds and every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import re
import socket
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol

OP_TIMEOUT = 10.0
"""Seconds for one connect, request and response."""
IDLE_CONCURRENCY = 50
"""Connections the idle-connection client opens at once (below the backlog)."""
MIB = 1 << 20
"""Bytes in a MiB."""
GIB = 1 << 30
"""Bytes in a GiB."""


class LoadError(Exception):
    """
    A load run could not be completed (the load generator or server failed).
    """


@dataclasses.dataclass
class LoadResult:
    """
    What one load run observed.

    @ivar requests: responses completed.
    @ivar seconds: wall-clock length of the run.
    @ivar p99Ms: 99th percentile latency in milliseconds; when pipelining it
        is the latency of a whole batch, as wrk records it.
    @ivar errors: socket errors plus non-2xx/3xx responses.
    @ivar received: bytes received from the server (heads and bodies).
    @ivar cpuSeconds: server user+system CPU seconds spent during the run,
        filled in by the caller.
    """

    requests: int
    seconds: float
    p99Ms: float
    errors: int
    received: int = 0
    cpuSeconds: float = 0.0

    @property
    def rps(self) -> float:
        """
        @return: completed requests per second.
        """
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpuMicrosPerRequest(self) -> float:
        """
        @return: server CPU microseconds per completed request.
        """
        return 1e6 * self.cpuSeconds / self.requests if self.requests else 0.0

    @property
    def mibPerSecond(self) -> float:
        """
        @return: MiB received per second.
        """
        return self.received / MIB / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpuMillisPerGiB(self) -> float:
        """
        @return: server CPU milliseconds per GiB received.
        """
        return 1e3 * self.cpuSeconds * GIB / self.received if self.received else 0.0


class LoadGenerator(Protocol):
    """
    Something that loads a server for a while and reports what it saw.
    """

    name: str

    def run(
        self, port: int, path: str, connections: int, seconds: float, depth: int
    ) -> LoadResult:
        """
        Load C{http://127.0.0.1:port/path} for C{seconds}.

        @param port: the server's port.
        @param path: the URL path.
        @param connections: concurrent keep-alive connections.
        @param seconds: how long to run.
        @param depth: requests per write: 1 for plain keep-alive, more to
            pipeline.
        @return: what the run observed.
        @raise LoadError: if the run could not be completed.
        """


# -- response framing ----------------------------------------------------------


class ResponseCounter:
    """
    Incremental HTTP/1.1 response framing: just enough to count responses.

    Understands Content-Length and chunked bodies (with trailers).  A response
    framed by closing the connection is refused: every benchmark here is about
    keep-alive.

    @ivar completed: responses seen in full.
    @ivar bad: complete responses whose status was not 2xx or 3xx.
    @ivar lastStatus: the status code of the latest response head.
    @ivar lastBody: the body of the latest complete response.
    """

    _HEAD, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER = range(6)

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._state = self._HEAD
        self._remaining = 0
        self._body = bytearray()
        self.completed = 0
        self.bad = 0
        self.lastStatus = 0
        self.lastBody = b""

    def feed(self, data: bytes) -> int:
        """
        Consume bytes received from the server.

        @param data: the bytes.
        @return: how many responses these bytes completed.
        @raise ValueError: if the response cannot be framed.
        """
        before = self.completed
        buf = self._buffer
        buf += data
        while buf:
            state = self._state
            if state == self._HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = bytes(buf[:end])
                del buf[: end + 4]
                self._startBody(head)
            elif state in (self._BODY, self._CHUNK_DATA):
                take = min(self._remaining, len(buf))
                self._body += buf[:take]
                del buf[:take]
                self._remaining -= take
                if self._remaining:
                    break
                if state == self._BODY:
                    self._finish()
                else:
                    self._state = self._CHUNK_END
            elif state == self._CHUNK_END:
                if len(buf) < 2:
                    break
                if buf[:2] != b"\r\n":
                    raise ValueError("chunk data not followed by CRLF")
                del buf[:2]
                self._state = self._CHUNK_SIZE
            elif state == self._CHUNK_SIZE:
                end = buf.find(b"\r\n")
                if end < 0:
                    break
                size = int(bytes(buf[:end]).split(b";")[0].strip(), 16)
                del buf[: end + 2]
                if size:
                    self._state = self._CHUNK_DATA
                    self._remaining = size
                else:
                    self._state = self._TRAILER
            else:  # the trailer section: header lines up to an empty one
                end = buf.find(b"\r\n")
                if end < 0:
                    break
                del buf[: end + 2]
                if end == 0:
                    self._finish()
        return self.completed - before

    def _startBody(self, head: bytes) -> None:
        """
        Read a response head and choose how its body is framed.

        @param head: the status line and header lines, without the blank line.
        @raise ValueError: if the head is malformed or the body unframed.
        """
        lines = head.split(b"\r\n")
        parts = lines[0].split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ValueError(f"bad status line {lines[0]!r}")
        status = int(parts[1])
        self.lastStatus = status
        length: int | None = None
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        self._body = bytearray()
        if status < 200:
            return  # interim response: the real one follows
        if status in (204, 304):
            self._finish()
        elif chunked:
            self._state = self._CHUNK_SIZE
        elif length is not None:
            self._state = self._BODY
            self._remaining = length
            if not length:
                self._finish()
        else:
            raise ValueError("response framed by connection close")

    def _finish(self) -> None:
        """
        Count the response just completed and expect the next head.
        """
        self.completed += 1
        if not 200 <= self.lastStatus < 400:
            self.bad += 1
        self.lastBody = bytes(self._body)
        self._state = self._HEAD
        self._remaining = 0


def requestBytes(port: int, path: str) -> bytes:
    """
    @param port: the server's port.
    @param path: the URL path.
    @return: one keep-alive GET request.
    """
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def checkServer(
    port: int,
    path: str,
    body: bytes | Callable[[bytes], str | None],
    request: bytes | None = None,
    pipelined: bool = True,
    responses: int = 2,
) -> str | None:
    """
    Ask the server for the page twice on one connection and check the answers.

    A fast server that answered 400, or closed after each response, would win
    every benchmark; this refuses it.  (Only a server known not to keep
    connections alive, such as gunicorn's sync worker, is asked once.)

    @param port: the server's port.
    @param path: the URL path.
    @param body: the expected response body, or a function given the body
        that returns L{None} when it is right, else what is wrong with it.
    @param request: the request to send, when not a GET of C{path}.
    @param pipelined: send both requests in one write; otherwise send the
        second when the first is answered.
    @param responses: how many times to ask: 2, or 1 for a server that closes
        the connection after each response.
    @return: L{None} when both answers are 200 with the expected body, else a
        description of what was wrong.
    """
    counter = ResponseCounter()
    deadline = time.monotonic() + OP_TIMEOUT
    if request is None:
        request = requestBytes(port, path)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=OP_TIMEOUT) as s:
            s.sendall(request * responses if pipelined else request)
            while counter.completed < responses:
                if time.monotonic() > deadline:
                    return "no complete response within the deadline"
                data = s.recv(65536)
                if not data:
                    return f"connection closed before {responses} responses"
                if (
                    counter.feed(data)
                    and not pipelined
                    and counter.completed == 1 < responses
                ):
                    s.sendall(request)
    except (OSError, ValueError) as e:
        return f"{type(e).__name__}: {e}"
    if counter.bad or counter.lastStatus != 200:
        return f"status {counter.lastStatus}"
    if callable(body):
        return body(counter.lastBody)
    if counter.lastBody != body:
        return f"unexpected body {counter.lastBody[:80]!r}"
    return None


# -- wrk -----------------------------------------------------------------------

_WRK_DONE = r"""
done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "WRKJSON {\"requests\": %d, \"duration_us\": %d, \"p99_us\": %d, "
      .. "\"bytes\": %d, \"connect\": %d, \"read\": %d, \"write\": %d, "
      .. "\"status\": %d, \"timeout\": %d}\n",
      summary.requests, summary.duration, latency:percentile(99), summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout))
end
"""

_WRK_PIPELINE = r"""
-- wrk's own pipeline.lua pattern: one write carries DEPTH requests.
init = function(args)
   local r = {}
   for i = 1, DEPTH do
      r[i] = wrk.format()
   end
   req = table.concat(r)
end

request = function()
   return req
end
"""


class Wrk:
    """
    Drive load with wrk: one thread, C{connections} keep-alive connections.

    @ivar executable: the wrk binary.
    @ivar prefix: a command prefix, such as C{taskset -c 1}, to pin wrk.
    @ivar workdir: where the Lua scripts are written.
    @ivar headers: more header lines for every request, such as
        C{Connection: close} (which makes wrk reconnect for each request).
    """

    name = "wrk"

    def __init__(
        self,
        executable: str,
        prefix: Sequence[str],
        workdir: Path,
        headers: Sequence[str] = (),
    ) -> None:
        self.executable = executable
        self.prefix = list(prefix)
        self.workdir = workdir
        self.headers = list(headers)
        self._scripts: dict[int, Path] = {}

    def _script(self, depth: int) -> Path:
        """
        @param depth: requests per write (1 for plain keep-alive).
        @return: a Lua script sending C{depth} requests per write and printing
            machine-readable totals when done.
        """
        if depth not in self._scripts:
            text = _WRK_DONE
            if depth > 1:
                text = _WRK_PIPELINE.replace("DEPTH", str(depth)) + text
            path = self.workdir / f"wrk-depth{depth}.lua"
            path.write_text(text)
            self._scripts[depth] = path
        return self._scripts[depth]

    def run(
        self, port: int, path: str, connections: int, seconds: float, depth: int
    ) -> LoadResult:
        """
        Run wrk once; see L{LoadGenerator.run}.
        """
        argv = [
            *self.prefix,
            self.executable,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "--timeout",
            "10s",
            *(arg for header in self.headers for arg in ("-H", header)),
            "-s",
            str(self._script(depth)),
            f"http://127.0.0.1:{port}{path}",
        ]
        # wrk's own latency figures are wrong when pipelining: it records one
        # sample per batch but corrects for coordinated omission as if each
        # response were a sample, and reports nonsense (a p99 of 0 below a
        # minimum of 40 ms).  A probe connection measures batches instead.
        probe = _BatchProbe(port, path, depth) if depth > 1 else None
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            if probe is not None:
                # Sample only while wrk's connections are all busy.
                time.sleep(min(0.25, seconds / 10))
                probe.start()
                time.sleep(max(0.0, seconds - 0.5))
                probe.stop()
            stdout, stderr = process.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired as e:
            raise LoadError(f"wrk did not finish: {e}") from e
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(OP_TIMEOUT)
            if probe is not None:
                probe.stop()
        match = re.search(r"^WRKJSON (\{.*\})$", stdout, re.MULTILINE)
        if process.returncode or not match:
            raise LoadError(f"wrk failed ({process.returncode}):\n{stdout}\n{stderr}")
        totals = json.loads(match.group(1))
        errors = sum(
            totals[k] for k in ("connect", "read", "write", "status", "timeout")
        )
        p99Ms = totals["p99_us"] / 1e3
        if probe is not None:
            if probe.error is not None:
                raise LoadError(f"latency probe failed: {probe.error}")
            p99Ms = percentile(probe.latencies, 99) * 1e3
        return LoadResult(
            requests=totals["requests"],
            seconds=totals["duration_us"] / 1e6,
            p99Ms=p99Ms,
            errors=errors,
            received=totals["bytes"],
        )


def percentile(samples: Sequence[float], p: float) -> float:
    """
    @param samples: measurements, in any order.
    @param p: the percentile wanted, from 0 to 100.
    @return: the nearest-rank percentile, or 0.0 without samples.
    """
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class _BatchProbe(threading.Thread):
    """
    One more pipelining connection, timing whole batches while wrk loads.

    Sends C{depth} requests in one write and waits for all the responses, over
    and over, until stopped.  Every socket operation has a deadline.

    @ivar latencies: seconds from each write to its last response.
    @ivar error: what stopped the probe early, if anything.
    """

    def __init__(self, port: int, path: str, depth: int) -> None:
        super().__init__(name="batch-latency-probe", daemon=True)
        self._address = ("127.0.0.1", port)
        self._payload = requestBytes(port, path) * depth
        self._depth = depth
        self._stopping = threading.Event()
        self.latencies: list[float] = []
        self.error: Exception | None = None

    def stop(self) -> None:
        """
        Stop after the batch in flight and wait (with a deadline) for it.
        """
        self._stopping.set()
        if self.is_alive():
            self.join(OP_TIMEOUT)

    def run(self) -> None:
        counter = ResponseCounter()
        try:
            with socket.create_connection(self._address, timeout=OP_TIMEOUT) as s:
                while not self._stopping.is_set():
                    start = time.perf_counter()
                    s.sendall(self._payload)
                    target = counter.completed + self._depth
                    while counter.completed < target:
                        data = s.recv(65536)
                        if not data:
                            raise ConnectionError("server closed the connection")
                        counter.feed(data)
                    self.latencies.append(time.perf_counter() - start)
            if counter.bad:
                raise ValueError(f"{counter.bad} responses with error status")
        except (OSError, ValueError) as e:
            self.error = e


# -- the Python fallback ---------------------------------------------------------


@dataclasses.dataclass
class _LoadState:
    """
    Totals shared by the connections of one Python load run.
    """

    completed: int = 0
    errors: int = 0
    received: int = 0
    stopping: bool = False
    latencies: list[float] = dataclasses.field(default_factory=list)


class _LoadProtocol(asyncio.Protocol):
    """
    One keep-alive connection of the Python load generator.

    Sends C{depth} requests in one write, waits for all their responses,
    records the batch latency, and goes again until told to stop.
    """

    def __init__(self, state: _LoadState, payload: bytes, depth: int) -> None:
        self._state = state
        self._payload = payload
        self._depth = depth
        self.counter = ResponseCounter()
        self._pending = 0
        self._sent = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self._pending = self._depth
        self._sent = time.perf_counter()
        self.transport.write(self._payload)

    def data_received(self, data: bytes) -> None:
        if not self._state.stopping:
            self._state.received += len(data)
        try:
            done = self.counter.feed(data)
        except ValueError:
            self._state.errors += 1
            if self.transport is not None:
                self.transport.close()
            return
        if not done:
            return
        self._state.completed += done
        self._pending -= done
        if self._pending <= 0:
            self._state.latencies.append(time.perf_counter() - self._sent)
            if not self._state.stopping:
                self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._state.stopping:
            self._state.errors += 1


class PythonLoad:
    """
    A bounded asyncio load generator, used when wrk is not installed.

    It runs in the calling process (the driver pins itself to the load core).
    It is far slower than wrk: against a fast server it, not the server, may be
    the bottleneck, which flattens ratios.
    """

    name = "python (asyncio)"

    def run(
        self, port: int, path: str, connections: int, seconds: float, depth: int
    ) -> LoadResult:
        """
        Run one load; see L{LoadGenerator.run}.
        """
        try:
            return asyncio.run(
                asyncio.wait_for(
                    self._run(port, path, connections, seconds, depth), seconds + 60
                )
            )
        except (OSError, asyncio.TimeoutError) as e:
            raise LoadError(f"python load failed: {type(e).__name__}: {e}") from e

    async def _run(
        self, port: int, path: str, connections: int, seconds: float, depth: int
    ) -> LoadResult:
        loop = asyncio.get_running_loop()
        state = _LoadState()
        payload = requestBytes(port, path) * depth
        protocols: list[_LoadProtocol] = []
        start = time.perf_counter()
        try:
            for _ in range(connections):
                _, protocol = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: _LoadProtocol(state, payload, depth), "127.0.0.1", port
                    ),
                    OP_TIMEOUT,
                )
                protocols.append(protocol)
            await asyncio.sleep(seconds)
        finally:
            state.stopping = True
            elapsed = time.perf_counter() - start
            completed = state.completed
            received = state.received
            for protocol in protocols:
                if protocol.transport is not None:
                    protocol.transport.close()
        return LoadResult(
            requests=completed,
            seconds=elapsed,
            p99Ms=percentile(state.latencies, 99) * 1e3,
            errors=state.errors + sum(p.counter.bad for p in protocols),
            received=received,
        )


# -- idle keep-alive connections -------------------------------------------------


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _openIdle(port: int, path: str, count: int) -> tuple[list[_Connection], int]:
    """
    Open connections, make one complete request on each, and leave them idle.

    At most L{IDLE_CONCURRENCY} are being set up at any moment, so the
    server's accept queue never overflows.

    @return: the connections left open, and the number that failed.
    """
    request = requestBytes(port, path)
    gate = asyncio.Semaphore(IDLE_CONCURRENCY)
    opened: list[_Connection] = []
    failures = 0

    async def exchange() -> _Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            counter = ResponseCounter()
            while not counter.completed:
                data = await reader.read(65536)
                if not data:
                    raise ConnectionError("closed before the response")
                counter.feed(data)
            if counter.bad:
                raise ConnectionError(f"status {counter.lastStatus}")
        except BaseException:
            writer.close()
            raise
        return reader, writer

    async def one() -> None:
        nonlocal failures
        async with gate:
            try:
                opened.append(await asyncio.wait_for(exchange(), OP_TIMEOUT))
            except (OSError, ValueError, asyncio.TimeoutError):
                failures += 1

    await asyncio.gather(*(one() for _ in range(count)))
    return opened, failures


async def _closeAll(connections: list[_Connection]) -> None:
    """
    Close connections and wait, with a deadline, until they are closed.
    """
    for _, writer in connections:
        writer.close()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(
                *(w.wait_closed() for _, w in connections), return_exceptions=True
            ),
            OP_TIMEOUT,
        )


@dataclasses.dataclass
class IdleResult:
    """
    What holding idle keep-alive connections cost the server.

    @ivar before: server memory before opening them, in KiB.
    @ivar after: server memory with them open and idle, in KiB.
    @ivar established: connections that completed their request.
    @ivar open: of those, connections the server had not closed when measured.
    """

    before: int
    after: int
    established: int
    open: int

    @property
    def kibPerConnection(self) -> float:
        """
        @return: memory growth per connection still open, in KiB.
        """
        return (self.after - self.before) / self.open if self.open else 0.0


async def _idleMemory(
    port: int, path: str, count: int, warmup: int, measure: Callable[[], int]
) -> IdleResult:
    # Warm the server's code paths and free lists first, so one-off costs are
    # not charged to the connections.
    warm, _ = await _openIdle(port, path, warmup)
    await _closeAll(warm)
    await asyncio.sleep(0.5)
    before = measure()
    opened, failures = await _openIdle(port, path, count)
    try:
        await asyncio.sleep(0.5)
        after = measure()
        await asyncio.sleep(0)
        still = sum(1 for reader, _ in opened if not reader.at_eof())
    finally:
        await _closeAll(opened)
    if not opened:
        raise LoadError(f"no idle connection could be established ({failures} failed)")
    return IdleResult(before, after, len(opened), still)


def idleMemory(
    port: int, path: str, count: int, warmup: int, measure: Callable[[], int]
) -> IdleResult:
    """
    Measure how a server's memory grows with idle keep-alive connections.

    Opens C{warmup} connections, uses and closes them; measures; opens
    C{count} connections with one complete request and response each; lets
    them sit idle for half a second; measures again; closes them all.

    @param port: the server's port.
    @param path: the URL path to request on each connection.
    @param count: idle connections to hold.
    @param warmup: connections to use and close before the baseline.
    @param measure: returns the server's current memory, in KiB.
    @return: the figures.
    @raise LoadError: if no connection could be established, or the whole
        measurement overran its deadline.
    """
    coroutine: Awaitable[IdleResult] = _idleMemory(port, path, count, warmup, measure)
    try:
        return asyncio.run(asyncio.wait_for(coroutine, 60 + count / 10))
    except asyncio.TimeoutError as e:
        raise LoadError("idle-connection measurement overran its deadline") from e
