"""
Tests for L{twisted_web_re.error}: the exceptions a program written for
twisted.web imports from C{twisted.web.error} exist under the same names, are
built with the same arguments and carry the same attributes.

The constructors are compared with twisted.web's own on a table of
arguments; what a raised L{error.Error} does to a response is tested in
C{test_server_errors.py}.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.web import error as twisted_error

from twisted_web_re import error, resource

#: The names the issue lists, every one of which twisted.web.error has.
NAMES = [
    "Error",
    "UnsupportedMethod",
    "PageRedirect",
    "InfiniteRedirection",
    "RedirectWithNoLocation",
    "UnexposedMethodError",
    "SchemeNotSupported",
    "ExcessiveBufferingError",
]


def test_namesExist() -> None:
    """
    Every exception a twisted.web program imports from C{twisted.web.error}
    (the template errors aside) can be imported from C{twisted_web_re.error},
    and each is an exception.
    """
    for name in NAMES:
        assert hasattr(twisted_error, name)
        assert issubclass(getattr(error, name), Exception)
        assert name in error.__all__


def test_hierarchy() -> None:
    """
    The redirect kinds are L{error.Error}s, as in twisted.web, so an
    C{except Error} catches them.
    """
    assert issubclass(error.PageRedirect, error.Error)
    assert issubclass(error.InfiniteRedirection, error.PageRedirect)
    assert issubclass(error.RedirectWithNoLocation, error.Error)
    assert not issubclass(error.UnsupportedMethod, error.Error)


def describe(exception: Any) -> dict[str, object]:
    """The attributes and text of an exception, to compare two of them."""
    return {
        name: getattr(exception, name)
        for name in ("status", "message", "response", "location", "uri", "args")
        if hasattr(exception, name)
    } | {"str": str(exception)}


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((404,), {}),
        ((b"404",), {}),
        ((404, b"Gone away"), {}),
        ((404, None, b"<p>body</p>"), {}),
        ((799,), {}),
        ((500,), {"message": b"Oops", "response": b"r"}),
    ],
)
def test_errorLikeTwistedWeb(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """
    L{error.Error} takes C{(code, message=None, response=None)} and has the
    C{status} (bytes), C{message} (the reason phrase by default), C{response},
    C{args} and text twisted.web's has.
    """
    ours = error.Error(*args, **kwargs)
    theirs = twisted_error.Error(*args, **kwargs)
    assert describe(ours) == describe(theirs)


@pytest.mark.parametrize("code", [b"abc", b"4044", b"", 99, 1000, -1, "12"])
def test_errorRefusesBadStatus(code: Any) -> None:
    """
    An L{error.Error} whose code is not three digits cannot be made: the
    ValueError names the code.  (twisted.web refuses such bytes too, but
    takes any int, which no response could carry.)
    """
    with pytest.raises(ValueError, match="status code"):
        error.Error(code)
    with pytest.raises(ValueError, match="status code"):
        error.PageRedirect(code, location=b"/x")


def test_errorTextCode() -> None:
    """
    A code given as text is taken as its digits.
    """
    assert error.Error("404").status == b"404"
    assert error.Error("404").message == b"Not Found"


@pytest.mark.parametrize("kind", ["PageRedirect", "InfiniteRedirection"])
@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((302,), {"location": b"/elsewhere"}),
        ((301, b"Moved"), {"location": b"http://example.com/"}),
        ((303,), {}),
        ((b"307", None, b"body", b"/x"), {}),
        ((799,), {"location": b"/x"}),
    ],
)
def test_redirectLikeTwistedWeb(
    kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """
    L{error.PageRedirect} and L{error.InfiniteRedirection} take
    C{(code, message=None, response=None, location=None)}, keep C{location},
    and name it in the message, as twisted.web's do.
    """
    ours = getattr(error, kind)(*args, **kwargs)
    theirs = getattr(twisted_error, kind)(*args, **kwargs)
    assert describe(ours) == describe(theirs)


def test_redirectWithNoLocationLikeTwistedWeb() -> None:
    """
    L{error.RedirectWithNoLocation} takes C{(code, message, uri)} and names
    the URI in its message, as twisted.web's does.
    """
    ours = error.RedirectWithNoLocation(302, b"Found", b"http://example.com/")
    theirs = twisted_error.RedirectWithNoLocation(302, b"Found", b"http://example.com/")
    assert describe(ours) == describe(theirs)
    assert ours.uri == b"http://example.com/"


def test_unsupportedMethodLikeTwistedWeb() -> None:
    """
    L{error.UnsupportedMethod} takes the methods the resource can render,
    and more arguments if given, as twisted.web's does.
    """
    ours = error.UnsupportedMethod([b"GET", b"HEAD"], "extra")
    theirs = twisted_error.UnsupportedMethod([b"GET", b"HEAD"], "extra")
    assert describe(ours) == describe(theirs)
    assert ours.allowedMethods == [b"GET", b"HEAD"]


@pytest.mark.parametrize("bad", [b"GET", "GET", 3, None])
def test_unsupportedMethodRefusesNonSequence(bad: Any) -> None:
    """
    L{error.UnsupportedMethod} given one method rather than a sequence of
    them raises a TypeError naming the value (a bare C{b"GET"} would become
    an C{Allow} header of numbers).
    """
    with pytest.raises(TypeError, match="allowedMethods"):
        error.UnsupportedMethod(bad)


def test_resourceUnsupportedMethodIsTheOne() -> None:
    """
    C{resource.UnsupportedMethod}, where twisted.web also offers it, is the
    same class as C{error.UnsupportedMethod}: one home for the exception.
    """
    assert resource.UnsupportedMethod is error.UnsupportedMethod


@pytest.mark.parametrize("kind", ["UnexposedMethodError", "SchemeNotSupported"])
def test_plainExceptions(kind: str) -> None:
    """
    The plain exceptions keep what they are given, as twisted.web's do.
    """
    assert getattr(error, kind)("why").args == getattr(twisted_error, kind)("why").args


def test_oldPageNames() -> None:
    """
    The error pages older books import from C{twisted.web.error}
    (C{NoResource}, C{ForbiddenResource}, C{ErrorPage}) are found there too,
    as the resource module's classes; other unknown names still fail.
    """
    assert error.NoResource is resource.NoResource
    assert error.ForbiddenResource is resource.ForbiddenResource
    assert error.ErrorPage is resource.ErrorPage
    with pytest.raises(AttributeError, match="NoSuchThing"):
        error.NoSuchThing  # noqa: B018
