"""
Interfaces of the web server, declared with C{zope.interface}.
"""

from __future__ import annotations

from typing import Any

from zope.interface import Attribute, Interface


class IRequest(Interface):
    """
    An HTTP request and the means to answer it.
    """

    method = Attribute("The request method, as bytes.")
    uri = Attribute("The full request-target, as bytes.")
    path = Attribute("The path part of the request-target, as bytes.")
    args = Attribute("Query arguments: bytes name to list of bytes values.")
    clientproto = Attribute("The request's HTTP version, as bytes.")
    requestHeaders = Attribute("The request's header fields, a Headers.")
    responseHeaders = Attribute("The response's header fields, a Headers.")
    content = Attribute("The request body, a file positioned at 0.")
    code = Attribute("The response status code.")
    sentLength = Attribute("How many body bytes have been sent.")

    def getHeader(key: bytes | str) -> bytes | str | None:
        """Return the last value of a request header, or None."""

    def getAllHeaders() -> dict[bytes, bytes]:
        """Return every request header, lower-cased name to last value."""

    def getCookie(key: bytes) -> bytes | None:
        """Return the value of a cookie the client sent, or None."""

    def getUser() -> bytes:
        """Return the user name of Basic credentials, or empty bytes."""

    def getPassword() -> bytes:
        """Return the password of Basic credentials, or empty bytes."""

    def getClientAddress() -> object:
        """Return the IAddress of the client."""

    def getHost() -> object:
        """Return the IAddress the request arrived on."""

    def isSecure() -> bool:
        """Return whether the request arrived over TLS."""

    def setResponseCode(code: int, message: bytes | None = None) -> None:
        """Set the response status code and reason phrase."""

    def setHeader(name: bytes | str, value: bytes | str) -> None:
        """Set a response header, replacing earlier values."""

    def addCookie(k: bytes | str, v: bytes | str) -> None:
        """Send a cookie with the response."""

    def redirect(url: bytes | str) -> None:
        """Make the response a redirect to url."""

    def setLastModified(when: float) -> bytes | None:
        """Set Last-Modified; return CACHED if the client's copy is current."""

    def setETag(etag: bytes | str) -> bytes | None:
        """Set ETag; return CACHED if the client's copy is current."""

    def write(data: bytes) -> None:
        """Write part of the response body."""

    def finish() -> None:
        """End the response."""

    def notifyFinish() -> object:
        """Return a Deferred firing on finish, failing on connection loss."""

    def registerProducer(producer: Any, streaming: bool) -> None:
        """Register a producer of the response body."""

    def unregisterProducer() -> None:
        """Unregister the response body producer."""


class IAccessLogFormatter(Interface):
    """
    A callable that formats one access-log line.
    """

    def __call__(timestamp: str, request: IRequest) -> str:
        """Return the log line for request, finished at timestamp."""
