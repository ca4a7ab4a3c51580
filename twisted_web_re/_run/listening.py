"""
Listening on the endpoints of the command line, and saying in one line why an
endpoint cannot be listened on.

A mistake that the description itself shows (a port out of range) is found
with the other options, by L{checkPort}; one that only listening reveals (a
port already in use, a privileged port, a socket in a directory that does not
exist) is found when the server starts, by L{ListeningService}, which then
ends the process with one line and a non-zero status instead of a traceback.
"""

from __future__ import annotations

from twisted.application.internet import StreamServerEndpointService
from twisted.internet.endpoints import serverFromString
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IReactorCore
from twisted.internet.protocol import Factory
from twisted.python import usage

__all__ = ["CannotListen", "ListeningService", "checkPort", "choosesTLSMethod"]

# The endpoint types whose address is a TCP port: the port is their first
# argument after the type, or their "port" keyword.
_PORT_TYPES = frozenset({"tcp", "tcp6", "ssl"})

# Every TCP port is a 16-bit number (RFC 9293 section 3.1); 0 asks the system
# for any free one.
_PORT_RANGE = range(65536)


def _arguments(description: str) -> tuple[list[str], dict[str, str]]:
    """
    Split an endpoint description into its arguments, as
    L{serverFromString} reads it.

    @param description: An endpoint description such as
        C{tcp:8080:interface=127.0.0.1}.
    @return: The positional arguments, the endpoint type first, and the
        keyword arguments.  A backslash makes the next character plain.
    """
    fields: list[list[str]] = [[""]]
    characters = iter(description)
    for character in characters:
        if character == "\\":
            fields[-1][-1] += next(characters, "")
        elif character == ":":
            fields.append([""])
        elif character == "=":
            fields[-1].append("")
        else:
            fields[-1][-1] += character
    positional = [field[0] for field in fields if len(field) == 1]
    keywords = {field[0]: field[1] for field in fields if len(field) > 1}
    return positional, keywords


def checkPort(description: str) -> None:
    """
    Check that the TCP port an endpoint description names can exist.

    L{serverFromString} accepts any integer as a port, and the mistake would
    only show when listening, as a traceback.

    @param description: An endpoint description that L{serverFromString}
        accepts.
    @raise usage.UsageError: If it is a C{tcp:}, C{tcp6:} or C{ssl:}
        endpoint whose port is not between 0 and 65535.
    """
    positional, keywords = _arguments(description)
    if not positional or positional[0].lower() not in _PORT_TYPES:
        return
    given = keywords.get("port", positional[1] if len(positional) > 1 else None)
    try:
        port = int(given) if given is not None else None
    except ValueError:
        return
    if port is not None and port not in _PORT_RANGE:
        raise usage.UsageError(
            f"cannot listen on {description!r}: port {port} is out of range"
            f" ({_PORT_RANGE.start}-{_PORT_RANGE.stop - 1})"
        )


def choosesTLSMethod(description: str) -> bool:
    """
    Tell whether an endpoint description chooses its TLS method itself.

    @param description: An endpoint description.
    @return: Whether it is an C{ssl:} endpoint with an C{sslmethod=}.
    """
    positional, keywords = _arguments(description)
    return (
        bool(positional)
        and positional[0].lower() == "ssl"
        and ("sslmethod" in keywords)
    )


def _reason(error: BaseException) -> str:
    """
    Say in a few words why listening failed.

    @param error: What listening raised.
    @return: The system's message for the socket error behind C{error}
        (such as C{Address already in use}), or else its class and text.
    """
    cause = error.socketError if isinstance(error, CannotListenError) else error
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return " ".join(f"{type(error).__name__}: {error}".split())


class CannotListen(SystemExit, Exception):
    """
    An endpoint could not be listened on; the server must not start.

    It is a L{SystemExit}, so that the process ends with its one-line message
    on standard error (the twistd log, under C{twistd}) and status 1, and no
    traceback.  It is also an L{Exception}, so that C{twistd}, which catches
    the exceptions of a service that fails to start, still removes its pid
    file and tells the parent of a daemon why it failed before ending.

    @ivar description: The endpoint description.
    """

    def __init__(self, description: str, reason: str) -> None:
        """
        @param description: The endpoint description.
        @param reason: Why it could not be listened on.
        """
        super().__init__(f"web-re: cannot listen on {description!r}: {reason}")
        self.description = description


class ListeningService(StreamServerEndpointService):
    """
    Listens on one endpoint of the command line, ending the process in one
    line if it cannot.

    Listening starts in L{privilegedStartService}, which C{twistd} calls
    before it gives up root, or in L{startService} when nothing called that
    first (C{twist}); a failure in either raises L{CannotListen} at once,
    before the reactor runs, rather than logging it and running on without
    listening.

    @ivar description: The endpoint description it listens on.
    """

    def __init__(
        self, description: str, factory: Factory, reactor: IReactorCore | None = None
    ) -> None:
        """
        @param description: An endpoint description, already checked by
            L{serverFromString} and L{checkPort}.
        @param factory: The factory to listen with.
        @param reactor: The reactor to listen with; the global reactor when
            L{None}.
        """
        if reactor is None:
            from twisted.internet import reactor as _reactor

            reactor = _reactor
        super().__init__(serverFromString(reactor, description), factory)
        self.description = description
        # Twisted's own flag (set by strports.service too): report a failure
        # to listen by raising from privilegedStartService, not by logging it.
        self._raiseSynchronously = True

    def privilegedStartService(self) -> None:
        """
        Start listening.

        @raise CannotListen: If the endpoint cannot be listened on.
        """
        try:
            super().privilegedStartService()
        except CannotListen:
            raise
        except Exception as e:
            raise CannotListen(self.description, _reason(e)) from e
