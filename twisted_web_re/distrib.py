"""
The spreadable web: one front server relays requests to personal servers
over Perspective Broker (twisted.web.distrib's names).

A personal server publishes a Site with L{ResourcePublisher} (see
L{twisted_web_re.tap.makePersonalServerFactory}); a front server mounts a
L{ResourceSubscription} to it, or a L{UserDirectory} that finds each
user's.  The personal server answers each relayed request, a L{Request},
with its own Site, and the response comes back whole: status, every header,
cookies, the body streamed with back-pressure.  See C{doc/distrib.md}.
"""

from __future__ import annotations

from twisted_web_re._distrib.publisher import ResourcePublisher
from twisted_web_re._distrib.remoterequest import Request
from twisted_web_re._distrib.subscription import ResourceSubscription
from twisted_web_re._distrib.userdir import UserDirectory

__all__ = ["Request", "ResourcePublisher", "ResourceSubscription", "UserDirectory"]
