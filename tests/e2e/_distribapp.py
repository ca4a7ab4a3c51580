"""
A WSGI application for the spreadable web's end-to-end tests, run by a
personal server (C{twistd web-re --personal --wsgi _distribapp.upload}).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable


def upload(
    environ: dict[str, object], startResponse: Callable[..., object]
) -> Iterable[bytes]:
    """
    Read the request body in pieces as they arrive, creating the file named
    by C{$UPLOAD_MARKER} once the first has come; answer with the body's
    length and SHA-256.
    """
    body = environ["wsgi.input"]
    digest = hashlib.sha256()
    total = 0
    while True:
        data = body.read(65536)  # type: ignore[attr-defined]
        if not data:
            break
        if total == 0:
            with open(os.environ["UPLOAD_MARKER"], "wb"):
                pass
        total += len(data)
        digest.update(data)
    startResponse("200 OK", [("Content-Type", "text/plain")])
    return [b"%d %s" % (total, digest.hexdigest().encode())]
