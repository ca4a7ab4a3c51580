"""
Checking the values given to C{twistd web-re}'s options: each mistake
becomes a one-line L{usage.UsageError} (or a C{ValueError} that
L{usage.Options} shows in one line), never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from twisted.python import reflect, usage

from twisted_web_re._protocols.accesslog import ACCESS_LOG_FORMATS
from twisted_web_re._run.lookupfailure import describeLookupFailure

# RFC 9110 section 5.6.2: a field name is a token, one or more of these.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")

# RFC 9110 section 5.5: a field value never holds CR, LF or NUL, and the other
# control characters (all but HTAB) are invalid too.  Letting CR or LF through
# would let a command line split one response header into two.
_FORBIDDEN_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# RFC 9110 section 8.3.1: type "/" subtype, then any parameters.  The default
# type becomes a Content-Type value, so it must be a valid one.
_MEDIA_TYPE = re.compile(
    r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+/[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*;.*)?\Z"
)


def oneLine(text: str) -> str:
    """
    Fold C{text} onto one line, so that an error message stays one line.

    @param text: Any message, possibly spread over several lines.
    @return: C{text} with each run of whitespace replaced by one space.
    """
    return " ".join(text.split())


def parseHeader(text: str) -> tuple[bytes, bytes]:
    """
    Parse a C{"Name: value"} header given on the command line.

    @param text: The argument of C{--add-header}.
    @return: The header's name and value as bytes, with the whitespace around
        the value removed.  The value is encoded as UTF-8.
    @raise usage.UsageError: If C{text} has no colon, its name is not an HTTP
        token, or its value holds a control character such as CR or LF.
    """
    name, colon, value = text.partition(":")
    if not colon:
        raise usage.UsageError(
            f'--add-header wants "Name: value", got {text!r} (no colon)'
        )
    if not _TOKEN.match(name):
        raise usage.UsageError(
            f"--add-header: {name!r} is not a valid header name"
            " (letters, digits and !#$%&'*+-.^_`|~ only, no spaces)"
        )
    value = value.strip(" \t")
    if _FORBIDDEN_IN_VALUE.search(value):
        raise usage.UsageError(
            f"--add-header: the value of {name} holds a control character"
            f" (CR, LF, NUL...): {value!r}"
        )
    return name.encode("ascii"), value.encode("utf-8")


def checkFileName(option: str, name: str) -> str:
    """
    Check that C{name} can be the name of a file in a directory.

    @param option: The option C{name} was given to, for the error message.
    @param name: A file name or extension from the command line.
    @return: C{name}, unchanged.
    @raise usage.UsageError: If C{name} is empty or holds a slash or a NUL,
        so that it could never match one directory entry.
    """
    if not name or "/" in name or "\x00" in name:
        raise usage.UsageError(
            f"--{option} wants a file name or extension without a slash, got {name!r}"
        )
    return name


def namedObject(option: str, name: str, kind: str = "class") -> Callable[..., Any]:
    """
    Find the callable that C{name} names, importing its module.

    @param option: The option C{name} was given to, for the error message.
    @param name: A fully qualified Python name such as C{package.module.Class}.
    @param kind: What the option wants C{name} to be, for the error message.
    @return: The object it names.
    @raise usage.UsageError: If C{name} is not a valid name, its module cannot
        be imported (whatever the import raises: the message then names the
        module and the file and line of the error), it names nothing, or what
        it names cannot be called.
    """
    try:
        found = reflect.namedAny(name)
    except Exception as e:
        # Importing runs the user's module, which may raise anything; all of
        # it means the name given cannot be used.
        raise usage.UsageError(f"--{option}: {describeLookupFailure(name, e)}") from e
    if not callable(found):
        raise usage.UsageError(
            f"--{option}: {name!r} is a {type(found).__name__}, not a {kind}"
        )
    return cast(Callable[..., Any], found)


def isResource(candidate: object) -> bool:
    """
    Tell whether C{candidate} can be published as a resource.

    The test is the duck type the publishing machinery relies on, so that a
    resource written for twisted.web qualifies as well as one of ours.

    @param candidate: Any object.
    @return: Whether it has C{isLeaf}, C{getChildWithDefault} and C{render}.
    """
    return (
        hasattr(candidate, "isLeaf")
        and callable(getattr(candidate, "getChildWithDefault", None))
        and callable(getattr(candidate, "render", None))
    )


def accessLogFormat(name: str) -> str:
    """
    Check an C{--access-log-format} value.

    @param name: The value given.
    @return: C{name}, a key of L{ACCESS_LOG_FORMATS}.
    @raise ValueError: It names no format.
    """
    if name not in ACCESS_LOG_FORMATS:
        raise ValueError(f"use one of {', '.join(ACCESS_LOG_FORMATS)}, not {name!r}")
    return name


accessLogFormat.coerceDoc = "One of: combined, json."  # type: ignore[attr-defined]


def checkMediaType(value: str) -> str:
    """
    Check that C{value} is a media type that can be sent as a Content-Type.

    @param value: The argument of C{--mime-type}.
    @return: C{value}, unchanged.
    @raise usage.UsageError: If C{value} is not C{type/subtype}, optionally
        followed by parameters, or holds a control character.
    """
    if not _MEDIA_TYPE.match(value) or _FORBIDDEN_IN_VALUE.search(value):
        raise usage.UsageError(
            f"--mime-type wants a media type such as text/plain, got {value!r}"
        )
    return value


def makeInstance(name: str) -> object:
    """
    Make the root resource that C{--class} names.

    @param name: The fully qualified name of a resource class.
    @return: An instance of it, made with no arguments.
    @raise usage.UsageError: If the class cannot be found, raises when called,
        or makes something that is not a resource.
    """
    factory = namedObject("class", name)
    try:
        root = factory()
    except Exception as e:
        raise usage.UsageError(
            oneLine(f"--class: {name}() raised {e.__class__.__name__}: {e}")
        ) from e
    if not isResource(root):
        raise usage.UsageError(
            f"--class: {name}() made a {type(root).__name__}, which is not a"
            " resource (it needs isLeaf, getChildWithDefault and render)"
        )
    return root


def hstsSeconds(value: str) -> int:
    """
    Check an C{--hsts} value: the seconds browsers keep to HTTPS.

    @param value: The value given.
    @return: It, as a number of seconds.
    @raise ValueError: It is not a whole number of seconds from 0 (which
        tells browsers to forget the policy) up.
    """
    if not value.isdigit() or not value.isascii():
        raise ValueError(f"want whole seconds, such as 31536000, not {value!r}")
    return int(value)


hstsSeconds.coerceDoc = "Whole seconds: 31536000 is a year."  # type: ignore[attr-defined]


def shutdownDeadline(value: str) -> float:
    """
    Check a C{--shutdown-deadline} value.

    @param value: The value given.
    @return: It, as seconds.
    @raise ValueError: It is not a finite number of seconds, 0 or more.
    """
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"want seconds, 0 or more, such as 5, not {value!r}")
    return seconds
