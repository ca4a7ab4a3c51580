"""
The HTML rendering of a L{Failure}: every frame with its file, line, function
and the source lines around it, then the exception; everything escaped.

It is what a site with C{displayTracebacks} shows on its 500 page, and what
L{twisted_web_re.util.formatFailure} returns.  Locals and globals are never
shown: they would put secrets (passwords, keys, session data) on the page.
"""

from __future__ import annotations

import html
import linecache
import traceback

from twisted.python.failure import Failure

__all__ = ["CONTEXT_LINES", "formatFailure", "tracebackPage"]

#: How many source lines are shown before and after the line of each frame.
CONTEXT_LINES = 2

# The look of the page: each frame a block, its line marked; plain HTML reads
# well without it.
_STYLE = (
    "body{font-family:sans-serif;margin:1.5em}"
    ".frames{padding-left:0;list-style:none}"
    ".frame{margin:0 0 1em}"
    ".where{margin:0 0 .25em;font-family:monospace}"
    ".source{margin:0;padding:.4em;background:#f4f4f4;border-left:3px solid #ccc}"
    ".current{background:#ffe08a;font-weight:bold}"
    ".lineno{color:#777}"
    ".exception{color:#a00;font-weight:bold;white-space:pre-wrap}"
)


def _escape(text: str) -> str:
    """
    Escape C{text} for HTML text or a quoted attribute.

    @param text: Any text.
    @return: C{text} with C{&}, C{<}, C{>} and both quotes escaped.
    """
    return html.escape(text, quote=True)


def _sourceLines(fileName: str, lineNumber: int) -> str:
    """
    The source lines around one line of a file, as HTML.

    @param fileName: The file of a frame.
    @param lineNumber: The line the frame was at.
    @return: Up to L{CONTEXT_LINES} lines either side of C{lineNumber} and the
        line itself, each led by its number, the line itself marked; empty if
        the file cannot be read (code compiled from a string, say).
    """
    if not linecache.getline(fileName, lineNumber):
        return ""
    first = max(1, lineNumber - CONTEXT_LINES)
    numbers = range(first, lineNumber + CONTEXT_LINES + 1)
    lines = [(n, linecache.getline(fileName, n).rstrip("\r\n")) for n in numbers]
    # Blank lines after the frame's own (or the end of the file) show nothing.
    while not lines[-1][1] and lines[-1][0] > lineNumber:
        lines.pop()
    width = len(str(lines[-1][0]))
    rendered = []
    for number, line in lines:
        marker = ">" if number == lineNumber else " "
        text = (
            f'<span class="lineno">{marker} {number:>{width}}</span>  {_escape(line)}'
        )
        kind = "current" if number == lineNumber else "context"
        rendered.append(f'<span class="{kind}">{text}</span>')
    return '<pre class="source">' + "\n".join(rendered) + "</pre>\n"


def _frame(function: str, fileName: str, lineNumber: int) -> str:
    """
    One frame of a traceback, as HTML.

    @param function: The name of the frame's function.
    @param fileName: The frame's file.
    @param lineNumber: The line the frame was at.
    @return: A list item: where the frame is, as Python's tracebacks say it,
        then its source lines.
    """
    where = f'File "{fileName}", line {lineNumber}, in {function}'
    return (
        f'<li class="frame"><p class="where">{_escape(where)}</p>\n'
        f"{_sourceLines(fileName, lineNumber)}</li>\n"
    )


def formatFailure(failure: Failure) -> bytes:
    """
    Render C{failure} as an HTML fragment.

    @param failure: Any failure, with or without a traceback.
    @return: UTF-8 HTML: a C{<div class="traceback">} holding the heading
        C{Traceback (most recent call last):}, each frame (outermost first)
        with its file, line, function and the source lines around it, and
        the exception as Python prints it.  Every piece of text is escaped,
        so an exception's message cannot inject markup.
    """
    parts = ['<div class="traceback">\n']
    if failure.frames:
        parts.append('<p class="heading">Traceback (most recent call last):</p>\n')
        parts.append('<ol class="frames">\n')
        for function, fileName, lineNumber, *_ in failure.frames:
            parts.append(_frame(function, fileName, lineNumber))
        parts.append("</ol>\n")
    exception = "".join(traceback.format_exception_only(failure.type, failure.value))
    parts.append(f'<pre class="exception">{_escape(exception.rstrip())}</pre>\n')
    parts.append("</div>\n")
    return "".join(parts).encode("utf-8")


def tracebackPage(failure: Failure) -> bytes:
    """
    The 500 page of a site that displays tracebacks.

    @param failure: Why rendering failed.
    @return: A whole UTF-8 HTML page headed C{Processing Failed}, whose body
        is L{formatFailure} of C{failure}.
    """
    return (
        b'<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        b"<title>500 Processing Failed</title><style>%s</style></head>\n"
        b"<body><h1>Processing Failed</h1>\n%s</body></html>\n"
        % (_STYLE.encode("ascii"), formatFailure(failure))
    )
