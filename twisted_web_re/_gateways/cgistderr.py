"""
A CGI program's standard error, logged a line at a time with bounds, so
that a program that writes without end cannot flood the log.
"""

from __future__ import annotations

from twisted.logger import Logger

__all__ = ["STDERR_LINE_LIMIT", "STDERR_LOG_LIMIT", "ErrorLog"]

_log = Logger(namespace="twisted_web_re._gateways.cgiprocess")

#: The longest line of a program's standard error logged whole.
STDERR_LINE_LIMIT = 4096

#: Bytes of one program's standard error logged at most; a program that
#: writes more cannot flood the log, and the rest is counted instead.
STDERR_LOG_LIMIT = 64 * 1024


class ErrorLog:
    """
    Logs a program's standard error a line at a time, each line cut to
    L{STDERR_LINE_LIMIT} bytes and the whole to L{STDERR_LOG_LIMIT}.
    """

    def __init__(self, script: str) -> None:
        """
        @param script: the program's name, for the log.
        """
        self._script = script
        self._partial = b""
        self._logged = 0
        self._dropped = 0

    def feed(self, data: bytes) -> None:
        """Log the complete lines of C{data}, keeping a partial last line."""
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > STDERR_LINE_LIMIT:
            lines.append(self._partial)
            self._partial = b""
        for line in lines:
            self._line(line)

    def close(self) -> None:
        """Standard error ended: log the last line, and what was dropped."""
        if self._partial:
            self._line(self._partial)
            self._partial = b""
        if self._dropped:
            _log.warn(
                "CGI script {script}: {count} more bytes of standard error "
                "were not logged",
                script=self._script,
                count=self._dropped,
            )

    def _line(self, line: bytes) -> None:
        line = line.rstrip(b"\r")
        if self._logged >= STDERR_LOG_LIMIT:
            self._dropped += len(line) + 1
            return
        self._logged += len(line) + 1
        if len(line) > STDERR_LINE_LIMIT:
            line = line[:STDERR_LINE_LIMIT] + b"..."
        _log.warn(
            "CGI script {script} (stderr): {line}",
            script=self._script,
            line=line.decode("utf-8", "backslashreplace"),
        )
