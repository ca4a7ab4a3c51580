"""
The HTML of the short pages the server answers with by itself: an error's
page and a redirect's page, every piece of text in them escaped.
"""

from __future__ import annotations

import html


def errorPageHTML(code: int, brief: str, detail: str) -> bytes:
    """
    Return the HTML of an error page.

    @param code: the status code, shown in the title.
    @param brief: the heading (escaped).
    @param detail: the explanation (escaped).
    @return: a small UTF-8 HTML document.
    """
    brief = html.escape(brief)
    detail = html.escape(detail)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{code} {brief}</title></head>\n"
        f"<body><h1>{brief}</h1>\n<p>{detail}</p></body></html>\n"
    ).encode()


def redirectPageHTML(location: bytes) -> bytes:
    """
    Return the HTML of a page linking to C{location}, for a redirect's
    clients that do not follow it.

    @param location: the redirect's target (escaped in the page).
    @return: a small UTF-8 HTML document.
    """
    url = html.escape(location.decode("latin-1"))
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Moved</title>'
        f'</head>\n<body><a href="{url}">click here</a></body></html>\n'
    ).encode()
