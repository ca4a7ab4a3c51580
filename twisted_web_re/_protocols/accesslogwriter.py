"""
Where access-log lines go, and when: appended to a file, or to the Twisted
log, a batch at a time, each line a record of its own with its own time.

A Twisted log event costs about as much as serving a small request (twistd's
file observer formats a timestamp, the text, then writes and flushes, for each
event), so under twistd, whose one observer is a L{FileLogObserver}, a batch
of lines is written to that observer's file in one write, each line prefixed
exactly as the observer prefixes an event of the same time (the prefix is
made by the observer's own C{formatEvent}, once a second).  With any other
observers (syslog, several, none yet), each line is published as an event of
its own, carrying its own time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO, Any

from twisted.logger import (
    FileLogObserver,
    ILogObserver,
    Logger,
    LogLevel,
    LogPublisher,
    globalLogPublisher,
)

from twisted_web_re._protocols.reactor import resolveReactor

#: Seconds an access-log line may wait to be written with others.
LOG_FLUSH_DELAY = 0.25

#: Access-log lines that are written at once, however little time has passed.
LOG_FLUSH_LINES = 1000

#: The namespace of the access log's Twisted log events.
LOG_NAMESPACE = "twisted_web_re.http"

# Stands for the text in a probe event, to find the observer's prefix.
_MARK = "\x00access\x00"

#: What a writer queues for each line: its time (seconds since the epoch)
#: first, then what the writer's C{render} makes the line of.
Entry = tuple[Any, ...]

#: Makes the lines of a batch of entries, one per entry, in order.
Render = Callable[[Sequence[Entry]], list[str]]


def _givenLines(entries: Sequence[Entry]) -> list[str]:
    """The lines of entries queued by L{AccessLogWriter.add}: their own."""
    return [entry[1] for entry in entries]


def _event(when: float, line: str) -> dict[str, Any]:
    """The Twisted log event carrying one access-log line."""
    return {
        "log_format": "{log_access}",
        "log_access": line,
        "log_time": when,
        "log_level": LogLevel.info,
        "log_namespace": LOG_NAMESPACE,
        "log_source": None,
    }


def appendTo(path: str) -> IO[str]:
    """
    Open the access log file at C{path} for appending, as twisted.web does:
    one file that grows, never rotated here (rotate it with C{logrotate} or
    the like, or override C{HTTPFactory._openLogFile}), line-buffered so
    each batch reaches it in one write.
    """
    return open(path, "a", 1, encoding="utf-8", newline="\n")


class AccessLogWriter:
    """
    Writes access-log lines in batches, to a file while it is open, and to
    the Twisted log otherwise.

    Once L{close}d (the factory stopped, as at a shutdown, while some
    responses may still be finishing), each line is written at once: a
    shutdown does not wait for a batch.

    A line is queued either made (L{add}), or as the fields it is made of
    (L{addEntry}), which the writer's C{render} formats a batch at a time
    when the batch is written: the cost of formatting leaves the request.
    """

    def __init__(
        self,
        path: str | None,
        reactor: Any = None,
        publisher: ILogObserver | None = None,
        render: Render | None = None,
        opener: Callable[[str], IO[str]] | None = None,
    ) -> None:
        """
        @param path: the file to append lines to while open, or C{None} for
            the Twisted log.
        @param reactor: the reactor for the batch timer; the global one by
            default.
        @param publisher: where Twisted log events go; the global log
            publisher by default.
        @param render: makes the lines of the entries given to L{addEntry};
            by default, entries are C{(when, line)} pairs.
        @param opener: opens C{path} for appending text; L{appendTo} by
            default.
        """
        self.path = path
        self.file: IO[str] | None = None
        self._opener = appendTo if opener is None else opener
        self._reactor = reactor
        self._publisher: Any = globalLogPublisher if publisher is None else publisher
        self._log = Logger(LOG_NAMESPACE, observer=self._publisher)
        self._render: Render = _givenLines if render is None else render
        self._pending: list[Entry] = []
        self._closed = False
        self._prefixCache: tuple[Any, int, str, str] | None = None

    def open(self) -> None:
        """Open the file, if there is one, and batch lines again."""
        self._closed = False
        if self.path is not None and self.file is None:
            self.file = self._opener(self.path)

    def close(self) -> None:
        """
        Write the lines waiting, close the file, and write each line from now
        on at once.
        """
        self.flush()
        self._closed = True
        file, self.file = self.file, None
        if file is not None:
            file.close()

    def add(self, when: float, line: str) -> None:
        """
        Write C{line}, made at C{when} (seconds since the epoch), within
        L{LOG_FLUSH_DELAY} seconds, or at once when closed; for a writer
        without a C{render}.
        """
        self.addEntry((when, line))

    def addEntry(self, entry: Entry) -> None:
        """
        Write the line C{render} makes of C{entry} (its time first) within
        L{LOG_FLUSH_DELAY} seconds, or at once when closed.
        """
        if self._closed:
            self._writeLate(entry)
            return
        pending = self._pending
        pending.append(entry)
        if len(pending) == 1:
            resolveReactor(self._reactor).callLater(LOG_FLUSH_DELAY, self.flush)
        elif len(pending) >= LOG_FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        """Write the lines waiting now."""
        entries, self._pending = self._pending, []
        if not entries:
            return
        try:
            lines = self._render(entries)
        except Exception:
            entries, lines = self._renderEach(entries)
            if not lines:
                return
        if self.file is not None:
            self.file.write("\n".join(lines) + "\n")
            self.file.flush()
        else:
            self._toTwistedLog(entries, lines)

    def _renderEach(self, entries: list[Entry]) -> tuple[list[Entry], list[str]]:
        """
        Render C{entries} one by one, leaving out (and logging the error of)
        each that cannot be, so that one bad entry loses no other line.
        """
        kept = []
        lines = []
        for entry in entries:
            try:
                [line] = self._render([entry])
            except Exception:
                self._log.failure("Cannot format an access-log line")
            else:
                kept.append(entry)
                lines.append(line)
        return kept, lines

    def _writeLate(self, entry: Entry) -> None:
        """Write one line now, opening the file (if any) just for it."""
        lines = self._render([entry])
        if self.path is None:
            self._toTwistedLog([entry], lines)
            return
        file = self._opener(self.path)
        try:
            file.write(lines[0] + "\n")
        finally:
            file.close()

    def _toTwistedLog(self, entries: Sequence[Entry], lines: list[str]) -> None:
        """Write C{lines}, made of C{entries}, to the Twisted log, one record each."""
        observer = self._soleFileObserver()
        if observer is not None:
            pieces = []
            second = -1
            before = after = ""
            for entry, line in zip(entries, lines, strict=True):
                when = entry[0]
                if int(when) != second or second < 0:
                    parts = self._prefix(observer, when)
                    if parts is None:
                        break
                    before, after, perSecond = parts
                    second = int(when) if perSecond else -1
                if "\n" in line:
                    break
                pieces.append(before + line + after)
            else:
                text = "".join(pieces)
                out = observer._outFile
                encoding = getattr(observer, "_encoding", None)
                out.write(text if encoding is None else text.encode(encoding))
                out.flush()
                return
        publish = self._publisher
        for entry, line in zip(entries, lines, strict=True):
            publish(_event(entry[0], line))

    def _soleFileObserver(self) -> FileLogObserver | None:
        """
        The publisher's one observer, if it is a file observer whose file can
        be written to directly.
        """
        publisher = self._publisher
        if not isinstance(publisher, LogPublisher):
            return None
        observers = getattr(publisher, "_observers", None)
        if not observers or len(observers) != 1:
            return None
        observer = observers[0]
        if type(observer) is not FileLogObserver or not hasattr(observer, "_outFile"):
            return None
        return observer

    def _prefix(
        self, observer: FileLogObserver, when: float
    ) -> tuple[str, str, bool] | None:
        """
        What C{observer} writes before and after the text of an access-log
        event made at C{when}, and whether that holds for the whole second;
        C{None} if the text cannot be told apart.
        """
        second = int(when)
        cached = self._prefixCache
        if cached is not None and cached[0] is observer and cached[1] == second:
            return cached[2], cached[3], True
        parts = _probe(observer, when)
        if parts is None:
            return None
        if parts != _probe(observer, second + 0.999):
            # Timestamps finer than the second: every line is probed.
            return parts[0], parts[1], False
        self._prefixCache = (observer, second, parts[0], parts[1])
        return parts[0], parts[1], True


def _probe(observer: FileLogObserver, when: float) -> tuple[str, str] | None:
    """
    Format a probe event at C{when} with C{observer}'s own C{formatEvent},
    and return what comes before and after its text.
    """
    text = observer.formatEvent(_event(when, _MARK))
    if not text or text.count(_MARK) != 1:
        return None
    before, after = text.split(_MARK)
    return before, after
