"""
The twistd dropin that makes C{twistd web-re} start a twisted_web_re server.

This file lives in C{twisted/plugins/} with no C{__init__.py} beside it or
above it, so it joins Twisted's own plugin package instead of shadowing it.
"""

from __future__ import annotations

from twisted.application.service import ServiceMaker

TwistedWebRe = ServiceMaker(
    "twisted_web_re",
    "twisted_web_re.tap",
    "A web server built on twisted_web_re, the reimplementation of Twisted Web.",
    "web-re",
)
