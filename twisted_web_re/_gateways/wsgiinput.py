"""
What a WSGI application is given: the environ of a request, and in it the
streams C{wsgi.input}, the request body, and C{wsgi.errors}, which writes to
the Twisted log.

The body stream is read in a worker thread.  L{SpooledInput} reads a body the
server has already received whole; L{StreamingInput} is fed by the reactor
thread as the body arrives, and blocks its reader until there is enough,
pushing back on the client while the application falls behind.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

from twisted.logger import Logger

if TYPE_CHECKING:
    from twisted_web_re.server import Request

__all__ = [
    "ClientDisconnected",
    "ErrorStream",
    "SpooledInput",
    "StreamingInput",
    "makeEnviron",
]

#: Bytes of a streamed body held for the application before the server stops
#: reading from the client.
INPUT_HIGH_WATER = 1024 * 1024

#: Once paused, reading from the client resumes when the application has
#: brought what it holds back below this.
INPUT_LOW_WATER = 256 * 1024

_errorLog = Logger(namespace="twisted_web_re.wsgi.errors")


class ClientDisconnected(OSError):
    """
    The client went away (or sent a malformed body) before the request body
    was complete: C{wsgi.input} cannot give what the application asked for.

    It is an L{OSError}, as the "request data read error" other WSGI servers
    raise in this case, so application code that handles I/O errors on the
    body handles it too.
    """


def _readLines(stream: SpooledInput | StreamingInput, hint: int | None) -> list[bytes]:
    """
    Read lines from C{stream} until the end, or until they add up to at least
    C{hint} bytes when C{hint} is positive.
    """
    lines: list[bytes] = []
    total = 0
    while True:
        line = stream.readline()
        if not line:
            return lines
        lines.append(line)
        total += len(line)
        if hint is not None and 0 < hint <= total:
            return lines


class SpooledInput:
    """
    C{wsgi.input} over a body that has been received whole (C{request.content}):
    reads never block for long, and end where the body ends.
    """

    def __init__(self, content: IO[bytes]) -> None:
        """
        @param content: the body, positioned at its start; it holds nothing
            but the body.
        """
        self._content = content

    def read(self, size: int | None = -1) -> bytes:
        """
        Return the next C{size} bytes of the body (fewer only at its end), or
        the rest of it when C{size} is negative or C{None}.
        """
        if size is None:
            size = -1
        return self._content.read(size)

    def readline(self, size: int | None = -1) -> bytes:
        """
        Return the next line, newline included, or at most C{size} bytes of it
        when C{size} is not negative; C{b""} at the end of the body.
        """
        if size is None:
            size = -1
        return self._content.readline(size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """
        Return the remaining lines, or lines adding up to at least C{hint}
        bytes when C{hint} is positive.
        """
        return _readLines(self, hint)

    def __iter__(self) -> Iterator[bytes]:
        """Iterate over the remaining lines."""
        return iter(self.readline, b"")


class StreamingInput:
    """
    C{wsgi.input} over a body that is still arriving: the reactor thread
    L{feed}s it and the application's thread reads it, blocking until the
    bytes it asked for have arrived, the body has ended (L{end}), or the
    client has gone (L{abort}; then L{ClientDisconnected} is raised).

    When more than L{INPUT_HIGH_WATER} bytes wait to be read, the upload is
    paused (C{request.pauseUpload()}); once the reader has taken enough, it is
    resumed from the reactor thread.
    """

    def __init__(
        self,
        request: Request,
        callFromThread: Callable[..., object],
    ) -> None:
        """
        @param request: the request whose body this is, paused and resumed
            with C{pauseUpload()} and C{resumeUpload()} in the reactor thread.
        @param callFromThread: the reactor's C{callFromThread}, which the
            reading thread uses to resume the upload.
        """
        self._request = request
        self._callFromThread = callFromThread
        self._cond = threading.Condition(threading.Lock())
        self._pieces: deque[bytes] = deque()
        self._size = 0
        self._ended = False
        self._aborted = False
        self._discarding = False
        self._paused = False
        self._resuming = False

    # -- the reactor thread ------------------------------------------------

    def feed(self, data: bytes) -> None:
        """
        Add the next piece of the body, pausing the upload if the reader is
        too far behind.  Ignored once L{discard} was called.
        """
        with self._cond:
            if self._discarding:
                return
            self._pieces.append(data)
            self._size += len(data)
            self._cond.notify()
            pause = self._size > INPUT_HIGH_WATER and not self._paused
            if pause:
                self._paused = True
        if pause:
            self._request.pauseUpload()

    def end(self) -> None:
        """The body is complete: a reader gets C{b""} once it has the rest."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def abort(self) -> None:
        """
        The body will never be complete: wake the reader, which gets
        L{ClientDisconnected} for anything it cannot have.
        """
        with self._cond:
            self._aborted = True
            self._cond.notify_all()

    def discard(self) -> None:
        """
        The application is done with the body: drop what is held, drop what
        still comes, and let the client send the rest at full speed.
        """
        with self._cond:
            self._discarding = True
            self._pieces.clear()
            self._size = 0
            resume = self._paused and not self._aborted
            self._paused = False
            self._aborted = True
            self._cond.notify_all()
        if resume:
            self._request.resumeUpload()

    def _resume(self) -> None:
        """Resume the upload, unless the body was given up meanwhile."""
        with self._cond:
            self._resuming = False
            resume = self._paused and not self._discarding and not self._aborted
            self._paused = False
        if resume:
            self._request.resumeUpload()

    # -- the application's thread ---------------------------------------------

    def _take(self, size: int, line: bool) -> bytes:
        """
        Return up to C{size} bytes (all there are when C{size} is negative), or
        through the first newline when C{line}, waiting for them; then resume
        the upload if this brought what is held low enough.

        @raise ClientDisconnected: the body was cut off before that much came.
        """
        with self._cond:
            data = self._wait(size, line)
            resume = (
                self._paused and not self._resuming and self._size < INPUT_LOW_WATER
            )
            if resume:
                self._resuming = True
        if resume:
            self._callFromThread(self._resume)
        return data

    def _wait(self, size: int, line: bool) -> bytes:
        """L{_take}'s wait for the bytes it asked for.  Called with the lock."""
        while True:
            if line:
                found = self._findNewline(size)
                if found >= 0:
                    return self._pop(found)
            elif 0 <= size <= self._size:
                return self._pop(size)
            if self._ended:
                return self._pop(self._size if size < 0 else min(size, self._size))
            if self._aborted:
                if self._discarding:
                    return b""
                raise ClientDisconnected(
                    "the client went away before the request body was complete"
                )
            self._cond.wait()

    def _findNewline(self, limit: int) -> int:
        """
        How many bytes to take for a line of at most C{limit} bytes (no limit
        when negative), or -1 if more must come first.  Called with the lock.
        """
        if not limit:
            return 0
        seen = 0
        for piece in self._pieces:
            index = piece.find(b"\n")
            if index >= 0:
                length = seen + index + 1
                return length if limit < 0 else min(length, limit)
            seen += len(piece)
            if 0 <= limit <= seen:
                return limit
        return -1

    def _pop(self, size: int) -> bytes:
        """Remove and return the first C{size} bytes held.  Called with the lock."""
        pieces = self._pieces
        if not size:
            return b""
        first = pieces[0]
        if len(first) == size:
            pieces.popleft()
            data = first
        elif len(first) > size:
            data = first[:size]
            pieces[0] = first[size:]
        else:
            taken = []
            left = size
            while left:
                piece = pieces.popleft()
                if len(piece) > left:
                    pieces.appendleft(piece[left:])
                    piece = piece[:left]
                taken.append(piece)
                left -= len(piece)
            data = b"".join(taken)
        self._size -= size
        return data

    def read(self, size: int | None = -1) -> bytes:
        """
        Return the next C{size} bytes of the body, waiting for them (fewer
        only at its end), or the rest of it when C{size} is negative or
        C{None}.

        @raise ClientDisconnected: the body was cut off first.
        """
        return self._take(-1 if size is None else size, False)

    def readline(self, size: int | None = -1) -> bytes:
        """
        Return the next line, newline included, or at most C{size} bytes of it
        when C{size} is not negative; C{b""} at the end of the body.

        @raise ClientDisconnected: the body was cut off first.
        """
        return self._take(-1 if size is None else size, True)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """
        Return the remaining lines, or lines adding up to at least C{hint}
        bytes when C{hint} is positive.

        @raise ClientDisconnected: the body was cut off first.
        """
        return _readLines(self, hint)

    def __iter__(self) -> Iterator[bytes]:
        """Iterate over the remaining lines."""
        return iter(self.readline, b"")


class ErrorStream:
    """
    C{wsgi.errors}: a text stream whose lines go to the Twisted log, at the
    error level, in the C{twisted_web_re.wsgi.errors} namespace.

    A line is logged once its newline is written, or on L{flush}.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._partial = ""

    def write(self, text: str) -> int:
        """
        Write C{text}; return its length.

        @raise TypeError: C{text} is not a C{str} (PEP 3333: a text stream).
        """
        if not isinstance(text, str):
            raise TypeError(f"wsgi.errors takes str, not {type(text).__name__}")
        with self._lock:
            *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            _errorLog.error("{line}", line=line)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        """Write each string of C{lines}."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Log what was written since the last newline, if anything."""
        with self._lock:
            text, self._partial = self._partial, ""
        if text:
            _errorLog.error("{line}", line=text)


# Request field name -> environ key; None for the fields left out.
_ENVIRON_NAMES: dict[bytes, str | None] = {
    b"content-type": None,
    b"content-length": None,
}


def _environName(name: bytes) -> str | None:
    """
    The C{HTTP_*} environ key for the lower-cased field C{name}, or C{None}
    for a name with an underscore: C{X-Forwarded-For} and C{X_Forwarded_For}
    would share a key, letting a client forge a field a proxy vouches for (so
    Apache, nginx and gunicorn drop such fields too).
    """
    key = _ENVIRON_NAMES.get(name, "")
    if key != "":
        return key
    key = (
        None
        if b"_" in name
        else "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
    )
    if len(_ENVIRON_NAMES) < 1024:
        _ENVIRON_NAMES[name] = key
    return key


def makeEnviron(
    request: Request,
    body: SpooledInput | StreamingInput,
    streaming: bool,
    base: dict[str, Any],
) -> dict[str, Any]:
    """
    Return the PEP 3333 environ for C{request}: a copy of C{base} (the keys
    every request has alike) with the request's keys, and C{body} as
    C{wsgi.input}.

    @param streaming: whether the body is still arriving; otherwise it is
        complete in C{request.content}, and its length is known even when it
        came chunked.
    """
    environ = base.copy()
    prepath = request.prepath
    postpath = request.postpath
    uri = request.uri
    secure = request.isSecure()
    port = request.getRequestPort()
    environ["REQUEST_METHOD"] = request.method.decode("latin-1")
    environ["SCRIPT_NAME"] = (
        (b"/" + b"/".join(prepath)).decode("latin-1") if prepath else ""
    )
    environ["PATH_INFO"] = (
        (b"/" + b"/".join(postpath)).decode("latin-1") if postpath else ""
    )
    environ["QUERY_STRING"] = uri.partition(b"?")[2].decode("latin-1")
    environ["REQUEST_URI"] = uri.decode("latin-1")
    environ["SERVER_NAME"] = request.getRequestHostname().decode("latin-1")
    environ["SERVER_PORT"] = str(port if port is not None else 443 if secure else 80)
    environ["SERVER_PROTOCOL"] = request.clientproto.decode("latin-1")
    environ["wsgi.url_scheme"] = "https" if secure else "http"
    environ["wsgi.input"] = body
    environ["wsgi.errors"] = ErrorStream()
    client = request.getClientAddress()
    clientHost = getattr(client, "host", None)
    if clientHost is not None:
        environ["REMOTE_ADDR"] = clientHost
        environ["REMOTE_PORT"] = str(getattr(client, "port", ""))
    # Lower-cased names to their values, read without copying since this
    # runs for every request.
    headers = request.requestHeaders
    raw = headers.lowered()
    names = _ENVIRON_NAMES
    for name, values in raw.items():
        key = names.get(name, "")
        if key == "":
            key = _environName(name)
        if key is not None:
            value = (
                values[0]
                if len(values) == 1
                else (b"; " if name == b"cookie" else b", ").join(values)
            )
            environ[key] = value.decode("latin-1")
    authority = request.getTargetAuthority()
    if authority is not None:
        # A target in absolute form overrides Host (RFC 9112 section 3.2.2),
        # and applications rebuild their URL from HTTP_HOST (PEP 3333).
        environ["HTTP_HOST"] = authority.decode("latin-1")
    contentType = raw.get(b"content-type")
    if contentType:
        environ["CONTENT_TYPE"] = contentType[-1].decode("latin-1")
    contentLength = raw.get(b"content-length")
    if contentLength:
        environ["CONTENT_LENGTH"] = contentLength[-1].decode("latin-1")
    elif b"transfer-encoding" in raw and not streaming:
        content = request.content
        if content is not None:
            environ["CONTENT_LENGTH"] = str(content.seek(0, os.SEEK_END))
            content.seek(0)
    return environ
