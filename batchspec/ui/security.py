"""What stands between the app and a browser that is not its user's.

* Read-only: GET and HEAD only; anything else is 405.
* Bound to loopback by default, and then only requests naming a loopback
  host are answered: a page on another site that rebinds its DNS name to
  127.0.0.1 sends its own name as `Host` and gets 421, not the jobs.
* Any other interface needs `--allow-remote` and a token. The token comes as
  `Authorization: Bearer`, a cookie, or once as `?token=` (answered with a
  redirect that sets an HttpOnly, SameSite=Strict cookie and drops it from
  the URL); it is compared in constant time.
* Every response carries a strict Content-Security-Policy, nosniff, no
  referrer, and no framing.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "batchspec_ui_token"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    """True for `localhost` and addresses in 127.0.0.0/8 or ::1."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Policy:
    """The rules one server enforces."""

    csp: str
    token: str | None = None
    loopback_only: bool = True

    def token_ok(self, offered: str | None) -> bool:
        """Constant-time comparison with the configured token."""
        if self.token is None:
            return True
        if not offered:
            return False
        return hmac.compare_digest(offered.encode("utf-8"), self.token.encode("utf-8"))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class Guard:
    """ASGI middleware applying a `Policy` to every HTTP request."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app = app
        self.policy = policy
        self._headers = [
            (b"content-security-policy", policy.csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] not in self._names]
                message["headers"] = headers + self._headers
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            status, text, extra = refusal
            await _plain(send_secured, status, text, extra)
            return
        await self.app(scope, receive, send_secured)

    @property
    def _names(self) -> set[bytes]:
        return {name for name, _ in self._headers}

    def _refusal(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        if scope["method"] not in ("GET", "HEAD"):
            return 405, "batchspec ui is read-only\n", [(b"allow", b"GET, HEAD")]
        host = _header(scope, b"host") or ""
        if self.policy.loopback_only and not is_loopback(_host_name(host)):
            return 421, "this server answers only requests for localhost\n", []
        if self.policy.token is None:
            return None
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if "token" in query:
            if not self.policy.token_ok(query["token"]):
                return 401, "wrong token\n", []
            rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
            location = scope.get("path", "/") + (f"?{rest}" if rest else "")
            cookie = f"{COOKIE}={query['token']}; HttpOnly; SameSite=Strict; Path=/"
            return 303, "", [(b"location", location.encode()), (b"set-cookie", cookie.encode())]
        auth = _header(scope, b"authorization") or ""
        offered = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if offered is None:
            cookies = SimpleCookie()
            cookies.load(_header(scope, b"cookie") or "")
            morsel = cookies.get(COOKIE)
            offered = morsel.value if morsel is not None else None
        if not self.policy.token_ok(offered):
            return 401, "this server needs its token: open the URL it printed at start\n", []
        return None


async def _plain(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = text.encode("utf-8")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
