"""
End-to-end tests of the howto's virtual hosting and URL rewriting examples
(C{examples/vhost/}): each runs as a real C{twistd} process on 127.0.0.1 and
is spoken to with C{http.client}, naming the host in the C{Host} field.
"""

from __future__ import annotations

import http.client
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from test_twistd import (
    LOOPBACK,
    REPO,
    REQUEST_TIMEOUT,
    Server,
    _freePort,
    _twistdArgs,
    start,
)

# The fixture, used by name.
__all__ = ["start"]

VHOST_DIR = REPO / "examples" / "vhost"

# An .rpy script telling what the request says of its URL and scheme.
INFO_RPY = """\
from twisted_web_re.resource import Resource


class Info(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.getSession()
        return b"secure=%d url=%s host=%s" % (
            request.isSecure(),
            request.prePathURL(),
            request.getRequestHostname(),
        )


resource = Info()
"""


def fetch(
    port: int,
    path: str,
    host: str | None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """
    Make one GET to 127.0.0.1 with C{host} in the C{Host} field.

    @param connection: a connection to reuse (it is then left open).
    @return: the status, the headers (lower-cased names) and the body.
    """
    conn = connection or http.client.HTTPConnection(
        LOOPBACK, port, timeout=REQUEST_TIMEOUT
    )
    try:
        headers = {} if host is None else {"Host": host}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        fields = {name.lower(): value for name, value in response.getheaders()}
        return response.status, fields, body
    finally:
        if connection is None:
            conn.close()


def runTac(start: Callable[..., Server], name: str, env: dict[str, str]) -> Server:
    """Run C{examples/vhost/<name>} with C{twistd -ny} on a free port."""
    port = _freePort()
    return start(
        [*_twistdArgs(), "-y", str(VHOST_DIR / name)],
        port=port,
        command=None,
        env={**env, "LISTEN": f"tcp:{port}:interface={LOOPBACK}"},
    )


def site(directory: Path, name: str) -> Path:
    """A directory whose index page says C{name}."""
    directory.mkdir(parents=True)
    (directory / "index.html").write_text(f"<h1>{name}</h1>")
    return directory


def test_vhostTac(start: Callable[..., Server], tmp_path: Path) -> None:
    """
    C{vhost.tac} (the howto's "Virtual Hosts") serves foo.com, bar.com and
    baz each from its own directory, whatever the port and case of the host
    named, baz with resource scripts, and every other host from htdocs.
    """
    www = tmp_path / "www"
    site(www / "htdocs", "default")
    site(www / "foo", "foo")
    site(www / "bar", "bar")
    baz = site(www / "baz", "baz")
    (baz / "hello.rpy").write_text(
        "from twisted_web_re import static\n"
        "resource = static.Data(b'baz script', 'text/plain')\n"
    )
    server = runTac(start, "vhost.tac", {"WWW": str(www)})
    port = server.port
    assert fetch(port, "/", "foo.com")[2] == b"<h1>foo</h1>"
    assert fetch(port, "/", f"FOO.com:{port}")[2] == b"<h1>foo</h1>"
    assert fetch(port, "/", "bar.com.")[2] == b"<h1>bar</h1>"
    assert fetch(port, "/hello", "baz")[2] == b"baz script"
    assert fetch(port, "/", "other.example")[2] == b"<h1>default</h1>"
    assert fetch(port, "/", LOOPBACK)[2] == b"<h1>default</h1>"
    assert fetch(port, "/missing", "foo.com")[0] == 404
    assert "Traceback" not in server.log()


def test_vhostsDirTac(start: Callable[..., Server], tmp_path: Path) -> None:
    """
    C{vhosts_dir.tac} (the howto's "Advanced Techniques") serves one host
    per directory of C{VHOSTS}, and the default site for the rest; an
    unknown host gets no file of another host.
    """
    vhosts = tmp_path / "vhosts"
    site(vhosts / "one.test", "one")
    site(vhosts / "two.test", "two")
    (vhosts / "two.test" / "only-two.txt").write_text("two's file")
    default = site(tmp_path / "htdocs", "default")
    server = runTac(
        start, "vhosts_dir.tac", {"VHOSTS": str(vhosts), "WEBROOT": str(default)}
    )
    assert fetch(server.port, "/", "one.test")[2] == b"<h1>one</h1>"
    assert fetch(server.port, "/", "TWO.test:80")[2] == b"<h1>two</h1>"
    assert fetch(server.port, "/only-two.txt", "two.test")[2] == b"two's file"
    assert fetch(server.port, "/only-two.txt", "one.test")[0] == 404
    assert fetch(server.port, "/", "three.test")[2] == b"<h1>default</h1>"
    assert "Traceback" not in server.log()


def test_rewriteTac(start: Callable[..., Server], tmp_path: Path) -> None:
    """
    C{rewrite.tac} (the howto's "Rewriting URLs") serves C{/~foo/bar.html}
    as C{/users/foo/bar.html}; a path climbing out of the site is refused.
    """
    root = site(tmp_path / "site", "home")
    (root / "users" / "foo").mkdir(parents=True)
    (root / "users" / "foo" / "bar.html").write_text("foo's page")
    (tmp_path / "secret.txt").write_text("secret")
    server = runTac(start, "rewrite.tac", {"WEBROOT": str(root)})
    assert fetch(server.port, "/~foo/bar.html", "localhost")[2] == b"foo's page"
    assert fetch(server.port, "/users/foo/bar.html", "localhost")[2] == b"foo's page"
    assert fetch(server.port, "/", "localhost")[2] == b"<h1>home</h1>"
    for path in ("/~foo/../../secret.txt", "/~foo/%2e%2e/%2e%2e/secret.txt"):
        status, _, body = fetch(server.port, path, "localhost")
        assert status == 404, path
        assert b"secret" not in body
    assert "Traceback" not in server.log()


@pytest.fixture
def monster(start: Callable[..., Server], tmp_path: Path) -> Server:
    """
    C{twistd web-re --path} serving a site with the howto's C{vhost.rpy} at
    its root, a page telling what the request says of its URL, and a
    directory.
    """
    root = site(tmp_path / "monster-site", "root")
    shutil.copy(VHOST_DIR / "vhost.rpy", root / "vhost.rpy")
    (root / "info.rpy").write_text(INFO_RPY)
    site(root / "dir", "dir")
    port = _freePort()
    return start(
        _twistdArgs(),
        "--listen",
        f"tcp:{port}:interface={LOOPBACK}",
        "--path",
        str(root),
        port=port,
    )


def test_vhostMonsterRpy(monster: Server) -> None:
    """
    Through the howto's C{vhost.rpy}, the site sees the scheme, host and
    port the proxy names: its URLs, its redirects and its session cookie's
    C{Secure} flag follow them.
    """
    port = monster.port
    status, headers, body = fetch(
        port, "/vhost.rpy/https/www.example.com:8443/info.rpy", "internal:8538"
    )
    assert status == 200
    assert body == (
        b"secure=1 url=https://www.example.com:8443/info.rpy host=www.example.com"
    )
    assert "Secure" in headers["set-cookie"]
    status, headers, body = fetch(
        port, "/vhost.rpy/http/www.example.com/info.rpy", "internal"
    )
    assert body == b"secure=0 url=http://www.example.com/info.rpy host=www.example.com"
    assert "Secure" not in headers["set-cookie"]
    status, headers, _ = fetch(port, "/vhost.rpy/https/www.example.com/dir", "internal")
    assert status == 301
    assert headers["location"] == "/dir/"
    assert fetch(port, "/vhost.rpy/https/www.example.com/dir/", "x")[2] == (
        b"<h1>dir</h1>"
    )
    assert fetch(port, "/vhost.rpy", "internal")[0] == 200
    assert "Traceback" not in monster.log()


def test_vhostMonsterLeavesConnectionAlone(monster: Server) -> None:
    """
    What one request learns through C{vhost.rpy} is its own: the next
    request on the same keep-alive connection sees the connection's own
    scheme and its own C{Host}.
    """
    connection = http.client.HTTPConnection(
        LOOPBACK, monster.port, timeout=REQUEST_TIMEOUT
    )
    try:
        first = fetch(
            monster.port,
            "/vhost.rpy/https/www.example.com/info.rpy",
            "internal",
            connection,
        )
        assert first[2].startswith(b"secure=1 ")
        second = fetch(monster.port, "/info.rpy", "internal:8538", connection)
        assert second[2] == (
            b"secure=0 url=http://internal:%d/info.rpy host=internal"
        ) % (monster.port)
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path",
    [
        "/vhost.rpy/http/evil.com%0d%0aSet-Cookie:%20a=b/info.rpy",
        "/vhost.rpy/http/www.example.com:99999/info.rpy",
        "/vhost.rpy/gopher/www.example.com/info.rpy",
    ],
)
def test_vhostMonsterRefusesBadSegments(monster: Server, path: str) -> None:
    """
    A host segment that is no host and port is answered 400, and a scheme
    other than http(s) 404: nothing of them reaches a response header.
    """
    status, headers, _ = fetch(monster.port, path, "internal")
    assert status in (400, 404)
    assert "set-cookie" not in headers
    assert "Traceback" not in monster.log()


def test_everyVhostExampleRun() -> None:
    """
    Every example in C{examples/vhost/} is run by a test here, and listed in
    its README.
    """
    names = {p.name for p in VHOST_DIR.iterdir() if p.suffix in (".tac", ".rpy")}
    assert names == {"vhost.tac", "vhosts_dir.tac", "rewrite.tac", "vhost.rpy"}
    readme = (VHOST_DIR / "README.md").read_text(encoding="utf-8")
    assert [n for n in sorted(names) if f"`{n}`" not in readme] == []
