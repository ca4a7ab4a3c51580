"""
When L{Request.finishWith <twisted_web_re._publish.request.Request.finishWith>}
may answer in one step: what C{write(body)} then C{finish()} would send
must be what the one step sends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twisted_web_re._publish.request import Request


def plainFor(request: Request, plain: type[Request]) -> bool:
    """
    Whether C{request}'s C{write} and C{finish} are C{plain}'s, on its class
    and on the instance: C{finishWith} may then stand for them.
    """
    cls = type(request)
    own = request.__dict__
    return (
        cls.write is plain.write
        and cls.finish is plain.finish
        and "write" not in own
        and "finish" not in own
    )


def wholeReady(request: Request, body: bytes) -> bool:
    """
    Whether C{write(body)} then C{finish()} on C{request} would send what
    its one step sends: a response not started, not a HEAD, its length
    stated as C{body}'s, or to be stated by it because C{process} is still
    running (what is written then is held and sent with its length).
    """
    if (
        request.startedWriting
        or request.finished
        or request._disconnected
        or type(body) is not bytes
        or request.method == b"HEAD"
    ):
        return False
    if request._holding:
        return True
    return request.responseHeaders.getLowered(b"content-length") == [b"%d" % len(body)]
