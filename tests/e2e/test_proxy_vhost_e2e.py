"""
End to end: the howto's front arrangement for "Using VHostMonster", in two
real C{twistd} processes on 127.0.0.1.  The front (C{examples/proxy/
vhost_front.tac}) is a C{NameVirtualHost} whose host is a
C{ReverseProxyResource} to the internal server's C{vhost.rpy}; the internal
server (C{twistd web-re --path}) then makes its URLs and redirects with the
outer host and scheme.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from test_twistd import LOOPBACK, REPO, Server, _freePort, _twistdArgs, start
from test_vhost_e2e import INFO_RPY, fetch, site

# The fixture, used by name.
__all__ = ["start"]

FRONT = REPO / "examples" / "proxy" / "vhost_front.tac"

# An .rpy script redirecting to a URL made from its own.
MOVED_RPY = """\
from twisted_web_re.resource import Resource


class Moved(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.redirect(request.URLPath().sibling(b"info.rpy").__str__().encode())
        return b""


resource = Moved()
"""


def test_frontServerWithVHostMonster(
    start: Callable[..., Server], tmp_path: Path
) -> None:
    """
    Through the front, for its host name only, the internal server's pages
    see the front's scheme and host: C{prePathURL}, C{isSecure}, redirects
    and directory redirects name the front, never the internal address.
    """
    root = site(tmp_path / "internal-site", "root")
    shutil.copy(REPO / "examples" / "vhost" / "vhost.rpy", root / "vhost.rpy")
    (root / "info.rpy").write_text(INFO_RPY)
    (root / "moved.rpy").write_text(MOVED_RPY)
    site(root / "dir", "dir")
    internalPort = _freePort()
    internal = start(
        _twistdArgs(),
        "--listen",
        f"tcp:{internalPort}:interface={LOOPBACK}",
        "--path",
        str(root),
        port=internalPort,
    )
    frontPort = _freePort()
    front = start(
        [*_twistdArgs(), "-y", str(FRONT)],
        port=frontPort,
        command=None,
        env={
            "FRONT_LISTEN": f"tcp:{frontPort}:interface={LOOPBACK}",
            "INTERNAL_PORT": str(internalPort),
            "VHOST_NAME": "www.example.com",
            "VHOST_SCHEME": "https",
        },
    )
    status, headers, body = fetch(frontPort, "/info.rpy", "www.example.com")
    assert status == 200
    assert body == (
        b"secure=1 url=https://www.example.com/info.rpy host=www.example.com"
    )
    assert "Secure" in headers["set-cookie"]
    status, headers, _ = fetch(frontPort, "/moved.rpy", "www.example.com")
    assert status == 302
    assert headers["location"] == "https://www.example.com/info.rpy"
    status, headers, _ = fetch(frontPort, "/dir", "www.example.com")
    assert status == 301
    assert headers["location"] == "/dir/"
    assert fetch(frontPort, "/dir/", "www.example.com")[2] == b"<h1>dir</h1>"
    assert fetch(frontPort, "/", "www.example.com")[2] == b"<h1>root</h1>"
    status, _, body = fetch(frontPort, "/info.rpy", "other.example.com")
    assert status == 404 and b"secure=" not in body
    for server in (front, internal):
        assert "Traceback" not in server.log()
