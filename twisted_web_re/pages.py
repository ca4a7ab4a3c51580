"""
Ready-made error pages, under twisted.web.pages' names.

Each function returns a resource that answers every request, for itself and
every path below it, with its status code and a short HTML page whose text is
escaped: the same pages as L{resource.ErrorPage} and its kinds.
"""

from __future__ import annotations

from twisted_web_re.resource import ErrorPage

__all__ = ["errorPage", "forbidden", "notFound"]


def errorPage(code: int, brief: str, detail: str) -> ErrorPage:
    """
    Return a resource answering with status C{code} and a page headed
    C{brief} that explains C{detail}.

    @param code: the status code.
    @param brief: the page's heading (and title); escaped.
    @param detail: the page's explanation; escaped.
    """
    return ErrorPage(code, brief, detail)


def notFound(
    brief: str = "No Such Resource",
    message: str = "Sorry. No luck finding that resource.",
) -> ErrorPage:
    """
    Return a resource answering 404 Not Found.

    @param brief: the page's heading; escaped.
    @param message: the page's explanation; escaped.
    """
    return ErrorPage(404, brief, message)


def forbidden(
    brief: str = "Forbidden Resource",
    message: str = "Sorry, resource is forbidden.",
) -> ErrorPage:
    """
    Return a resource answering 403 Forbidden.

    @param brief: the page's heading; escaped.
    @param message: the page's explanation; escaped.
    """
    return ErrorPage(403, brief, message)
