"""A faithful fake of the Spotify Web API and token endpoint (aiohttp, 127.0.0.1).

Reproduces what Smart Play relies on, with Spotify's real status codes and error bodies:

* ``POST /api/token`` (``refresh_token`` and ``authorization_code`` grants);
  a revoked refresh token answers 400 ``invalid_grant``.
* ``GET /v1/me``, ``GET /v1/me/player`` (204 and an empty body without an active device),
  ``GET /v1/me/player/devices``, ``PUT /v1/me/player`` (transfer),
  ``PUT /v1/me/player/pause``, ``PUT /v1/me/player/play``, ``POST /v1/me/player/next``,
  ``POST /v1/me/player/previous``, ``PUT /v1/me/player/volume?volume_percent=``.
* Progress advances in real time while playing (and moves on to the next track of the
  context at the end of a track).
* 401 "The access token expired", 403 ``PREMIUM_REQUIRED`` for player commands of a free
  account, 403 "Restriction violated" (reason ``UNKNOWN``) when pausing a paused player
  or resuming a playing one, 404 ``NO_ACTIVE_DEVICE``, 404 "Device not found".

Fault injection (python methods): :meth:`FakeSpotify.expire_tokens`,
:meth:`FakeSpotify.revoke_refresh_token`, ``product = "free"``,
:meth:`FakeSpotify.fail_next` (429 with Retry-After, 5xx), :meth:`FakeSpotify.slow_next`
(delayed answers). Every request is logged in :attr:`FakeSpotify.log`.

User actions (what a person does in the Spotify app meanwhile): :meth:`user_play`,
:meth:`user_pause`, :meth:`user_resume`, :meth:`user_seek`, :meth:`user_transfer`,
:meth:`remove_device`, :meth:`go_inactive`.

What the real Spotify does that automations trip over:

* ``lag``: player commands are asynchronous. For ``lag`` seconds after a command,
  ``GET /me/player`` still shows the state from before it (default 1 s; the pytest
  fixture starts lag-free and scenario tests set it).
* ``idle_after``: a device paused for that many seconds drops its session:
  ``GET /me/player`` answers 204 while the device stays listed in
  ``GET /me/player/devices`` with ``is_active: false``. A plain ``PUT /me/player/play``
  then answers 404 ``NO_ACTIVE_DEVICE``; one carrying ``context_uri``/``uris`` starts it.
* Several devices per account (computer, speaker, phone) and one restricted device
  (``is_restricted: true``, e.g. a speaker controlled through its own app): every
  Web API command for it answers 403 "Restriction violated".
* 429 with ``"reason": "QUOTA_EXCEEDED"``: ``fail_next(429, reason="QUOTA_EXCEEDED")``.
* Several clients on one account: every token issued is valid at once; the log tells
  which token sent a request (:attr:`LoggedRequest.token`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field
import json
import secrets
import time
from typing import Any

from aiohttp import web
from yarl import URL

TRACKS: dict[str, dict[str, Any]] = {
    "spotify:track:1": {"name": "Teardrop", "duration_ms": 330_000, "artist": "Massive Attack"},
    "spotify:track:2": {"name": "Angel", "duration_ms": 380_000, "artist": "Massive Attack"},
    "spotify:track:3": {"name": "Roads", "duration_ms": 305_000, "artist": "Portishead"},
    "spotify:track:4": {"name": "Glory Box", "duration_ms": 306_000, "artist": "Portishead"},
    "spotify:track:5": {"name": "Short One", "duration_ms": 4_000, "artist": "Test"},
    "spotify:track:6": {"name": "After Short", "duration_ms": 200_000, "artist": "Test"},
}
CONTEXTS: dict[str, list[str]] = {
    "spotify:album:mezzanine": ["spotify:track:1", "spotify:track:2"],
    "spotify:album:dummy": ["spotify:track:3", "spotify:track:4"],
    "spotify:playlist:short": ["spotify:track:5", "spotify:track:6"],
}
DEFAULT_DEVICES: list[dict[str, Any]] = [
    {"id": "dev-desktop", "name": "Work Laptop", "type": "Computer", "volume_percent": 60},
    {"id": "dev-speaker", "name": "Living Room", "type": "Speaker", "volume_percent": 40},
    {"id": "dev-phone", "name": "Pixel", "type": "Smartphone", "volume_percent": 80},
    {
        "id": "dev-restricted",
        "name": "Kitchen Sonos",
        "type": "Speaker",
        "volume_percent": 30,
        "is_restricted": True,
    },
]
#: Seconds ``GET /me/player`` lags behind a command (what Spotify does: "up to a second or two").
DEFAULT_LAG = 1.0
SCOPE = (
    "user-read-playback-state user-modify-playback-state "
    "user-read-currently-playing user-read-private"
)


@dataclass
class LoggedRequest:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    time: float  # time.monotonic()
    status: int = 0
    token: str | None = None  # bearer token that sent it (tells clients apart)


@dataclass
class _Fault:
    status: int
    count: int
    retry_after: float | None = None
    reason: str | None = None
    path_prefix: str = "/v1/"
    message: str | None = None
    method: str | None = None
    skip: int = 0
    apply: bool = False  # run the command anyway (a gateway error after it went through)

    def response(self) -> web.Response:
        """Return the error answer of this fault."""
        if self.status == 429:
            response = _error(429, "API rate limit exceeded", self.reason)
            if self.retry_after is not None:
                response.headers["Retry-After"] = f"{self.retry_after:g}"
            return response
        messages = {500: "Server error.", 502: "Bad gateway.", 503: "Service unavailable"}
        message = self.message or messages.get(self.status, "Server error.")
        return _error(self.status, message, self.reason)

    def matches(self, request: web.Request) -> bool:
        return request.path.startswith(self.path_prefix) and (
            self.method is None or request.method == self.method
        )


@dataclass
class _Playback:
    device_id: str
    context_uri: str | None
    item_uri: str
    is_playing: bool
    progress_ms: int  # at ``anchor``
    anchor: float = field(default_factory=time.monotonic)
    paused_since: float | None = None  # time.monotonic() of the pause (idle timer)
    changed: float = field(default_factory=time.time)  # last play/pause/seek/skip (POSIX)


def _error(status: int, message: str, reason: str | None = None) -> web.Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if reason is not None:
        body["reason"] = reason
    return web.json_response({"error": body}, status=status)


class FakeSpotify:
    """The fake server; ``await start()``, use :attr:`url`, ``await stop()``."""

    def __init__(self, *, lag: float = DEFAULT_LAG, idle_after: float | None = None) -> None:
        """Create the fake with a premium account, four devices and nothing active.

        ``lag``: seconds ``GET /me/player`` shows the state from before a command.
        ``idle_after``: seconds after which a paused device drops its session (None: never).
        """
        self.lag = lag
        self.idle_after = idle_after
        self._stale: tuple[float, dict[str, Any] | None, float] | None = None
        self.client_id = "fake-client-id"
        self.client_secret = "fake-client-secret"
        self.product = "premium"
        self.user = {"id": "smartplayer", "display_name": "Smart Player", "country": "DE"}
        self.devices: list[dict[str, Any]] = [dict(d) for d in DEFAULT_DEVICES]
        self.playback: _Playback | None = None
        self.access_tokens: dict[str, float] = {}  # token -> expires_at (time.time())
        self.refresh_token = "fake-refresh-token"
        self.refresh_valid = True
        self.other_refresh_tokens: set[str] = set()  # sign-ins of other clients
        self.auth_codes: set[str] = {"fake-auth-code"}
        self.log: list[LoggedRequest] = []
        self._faults: list[_Fault] = []
        self._slow: list[tuple[float, int]] = []  # (delay seconds, count)
        self._closing = asyncio.Event()
        self._logged = asyncio.Event()  # set (and replaced) whenever a request is logged
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.in_flight = 0  # Web API requests being answered right now
        self.max_in_flight = 0  # most Web API requests answered at the same time

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Return the base URL, e.g. ``http://127.0.0.1:12345``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """Return the Web API base (what spotipy calls its ``prefix``)."""
        return f"{self.url}/v1/"

    @property
    def token_url(self) -> str:
        """Return the token endpoint URL."""
        return f"{self.url}/api/token"

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (``port`` 0: a free port)."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/api/token", self._token)
        app.router.add_get("/_fake/state", self._control_state)
        app.router.add_get("/_fake/log", self._control_log)
        app.router.add_post("/_fake/{action}", self._control)
        app.router.add_get("/v1/me", self._me)
        app.router.add_get("/v1/me/", self._me)  # spotipy's me() asks for "me/"
        app.router.add_get("/v1/me/player", self._player)
        app.router.add_get("/v1/me/player/currently-playing", self._currently_playing)
        app.router.add_get("/v1/me/player/devices", self._devices)
        app.router.add_put("/v1/me/player", self._transfer)
        app.router.add_put("/v1/me/player/pause", self._pause)
        app.router.add_put("/v1/me/player/play", self._play)
        app.router.add_post("/v1/me/player/next", self._next)
        app.router.add_post("/v1/me/player/previous", self._previous)
        app.router.add_put("/v1/me/player/volume", self._volume)
        self._runner = web.AppRunner(
            app, handle_signals=False, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening (slow answers in progress end at once)."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- tokens -------------------------------------------------------------------------

    def issue_token(
        self, lifetime: float = 3600.0, *, refresh_token: str | None = None
    ) -> dict[str, Any]:
        """Create a valid access token and return a Home Assistant style token dict.

        ``refresh_token``: a sign-in of its own (another client of the account), which
        :meth:`revoke_refresh_token` can revoke alone.
        """
        if refresh_token is not None:
            self.other_refresh_tokens.add(refresh_token)
        access = secrets.token_urlsafe(16)
        expires_at = time.time() + lifetime
        self.access_tokens[access] = expires_at
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(lifetime),
            "expires_at": expires_at,
            "refresh_token": refresh_token or self.refresh_token,
            "scope": SCOPE,
        }

    def expire_tokens(self) -> None:
        """Make every access token issued so far answer 401 "The access token expired"."""
        for token in self.access_tokens:
            self.access_tokens[token] = 0.0

    def revoke_refresh_token(self, refresh_token: str | None = None) -> None:
        """Make refreshes fail with 400 invalid_grant "Refresh token revoked".

        Without ``refresh_token``: the main one (and so every client using it).
        """
        if refresh_token is None:
            self.refresh_valid = False
        else:
            self.other_refresh_tokens.discard(refresh_token)

    # -- fault injection ----------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: float | None = None,
        reason: str | None = None,
        path_prefix: str = "/v1/",
        message: str | None = None,
        method: str | None = None,
        skip: int = 0,
        apply: bool = False,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status``.

        429 carries ``Retry-After`` when given; 5xx get Spotify's messages; any other
        status answers ``message``/``reason``. ``skip`` lets that many matching requests
        through first. ``apply`` carries the command out before answering with the error
        (what a 502 from Spotify's gateway often means).
        """
        self._faults.append(
            _Fault(status, count, retry_after, reason, path_prefix, message, method, skip, apply)
        )

    def slow_next(self, delay: float, count: int = 1) -> None:
        """Delay the next ``count`` Web API answers by ``delay`` seconds."""
        self._slow.append((delay, count))

    # -- request log --------------------------------------------------------------------

    def api_requests(
        self, method: str | None = None, path: str | None = None
    ) -> list[LoggedRequest]:
        """Return the logged Web API requests (token endpoint excluded), optionally filtered."""
        return [
            r
            for r in self.log
            if r.path.startswith("/v1/")
            and (method is None or r.method == method)
            and (path is None or r.path == path)
        ]

    async def wait_for_requests(self, count: int) -> None:
        """Wait (at most 5 s) until at least ``count`` Web API requests were received."""
        async with asyncio.timeout(5.0):
            while len(self.api_requests()) < count:
                await self._logged.wait()

    def clear_log(self) -> None:
        """Forget the logged requests."""
        self.log.clear()

    # -- user actions -------------------------------------------------------------------

    def user_play(
        self,
        device_id: str = "dev-desktop",
        context_uri: str | None = "spotify:album:mezzanine",
        item_uri: str | None = None,
        position_ms: int = 0,
    ) -> None:
        """Start playing (as the user would in the app) on ``device_id``."""
        self._stale = None  # what the user does shows at once
        if item_uri is None:
            assert context_uri is not None
            item_uri = CONTEXTS[context_uri][0]
        self.playback = _Playback(device_id, context_uri, item_uri, True, position_ms)

    def user_pause(self) -> None:
        """Pause by hand."""
        self._stale = None  # what the user does shows at once
        assert self.playback is not None
        self._freeze(False)

    def user_resume(self) -> None:
        """Resume by hand."""
        self._stale = None  # what the user does shows at once
        assert self.playback is not None
        self._freeze(True)

    def user_seek(self, position_ms: int) -> None:
        """Seek by hand."""
        self._stale = None  # what the user does shows at once
        assert self.playback is not None
        self.playback.progress_ms = position_ms
        self.playback.anchor = time.monotonic()
        self.playback.changed = time.time()

    def user_transfer(self, device_id: str, play: bool | None = None) -> None:
        """Move playback to another device by hand."""
        self._stale = None  # what the user does shows at once
        assert self.playback is not None
        self._freeze(self.playback.is_playing if play is None else play)
        self.playback.device_id = device_id
        self.playback.changed = time.time()

    def go_idle(self, then_device: str | None = None) -> None:
        """The paused device drops its session now (as after ``idle_after`` seconds).

        ``then_device``: Spotify shows that device instead, with an old paused state
        (another album, last changed an hour ago) rather than answering 204.
        """
        self._stale = None  # what the user does shows at once
        assert self.playback is not None
        self.playback = None
        if then_device is not None:
            self.playback = _Playback(
                then_device,
                "spotify:album:dummy",
                "spotify:track:4",
                False,
                60_000,
                paused_since=time.monotonic(),
                changed=time.time() - 3600,
            )

    def remove_device(self, device_id: str) -> None:
        """Make a device disappear (switched off); its playback ends."""
        self._stale = None  # what the user does shows at once
        self.devices = [d for d in self.devices if d["id"] != device_id]
        if self.playback is not None and self.playback.device_id == device_id:
            self.playback = None

    def go_inactive(self) -> None:
        """No active device any more (``GET /me/player`` answers 204)."""
        self._stale = None  # what the user does shows at once
        self.playback = None

    # -- state --------------------------------------------------------------------------

    def _advance(self) -> None:
        """Bring progress up to now, moving to the next track at the end of one."""
        pb = self.playback
        if pb is None:
            return
        now = time.monotonic()
        if (
            not pb.is_playing
            and self.idle_after is not None
            and pb.paused_since is not None
            and now - pb.paused_since >= self.idle_after
        ):
            self.playback = None  # the device dropped its session; it stays listed
            return
        if pb.is_playing:
            pb.progress_ms += int((now - pb.anchor) * 1000)
            while pb.progress_ms >= TRACKS[pb.item_uri]["duration_ms"]:
                pb.progress_ms -= TRACKS[pb.item_uri]["duration_ms"]
                tracks = CONTEXTS.get(pb.context_uri or "", [pb.item_uri])
                index = tracks.index(pb.item_uri) if pb.item_uri in tracks else -1
                if index + 1 >= len(tracks):
                    pb.is_playing = False
                    pb.progress_ms = 0
                    pb.item_uri = tracks[0]
                    break
                pb.item_uri = tracks[index + 1]
        pb.anchor = now

    def _freeze(self, playing: bool) -> None:
        self._advance()
        assert self.playback is not None
        if self.playback.is_playing and not playing:
            self.playback.paused_since = time.monotonic()
        elif playing:
            self.playback.paused_since = None
        if self.playback.is_playing != playing:
            self.playback.changed = time.time()
        self.playback.is_playing = playing

    def _before_command(self) -> None:
        """Keep showing the state from before a command for :attr:`lag` seconds."""
        if self.lag > 0:
            self._stale = (time.monotonic(), self.state(), time.monotonic() + self.lag)

    def visible_state(self) -> dict[str, Any] | None:
        """Return what ``GET /me/player`` answers now (lagging behind commands)."""
        if self._stale is not None:
            taken, body, until = self._stale
            now = time.monotonic()
            if now < until:
                if body is None or not body["is_playing"]:
                    return body
                progress = body["progress_ms"] + int((now - taken) * 1000)
                return {**body, "progress_ms": progress}
            self._stale = None
        return self.state()

    def state(self) -> dict[str, Any] | None:
        """Return the ``GET /me/player`` body (None when no device is active)."""
        self._advance()
        pb = self.playback
        if pb is None:
            return None
        device = self._device(pb.device_id)
        track = TRACKS[pb.item_uri]
        return {
            "device": {
                **(device or {}),
                "is_active": True,
                "is_restricted": bool((device or {}).get("is_restricted", False)),
            },
            "shuffle_state": False,
            "repeat_state": "off",
            "timestamp": int(pb.changed * 1000),  # when the state last changed
            "context": (
                {"type": pb.context_uri.split(":")[1], "uri": pb.context_uri}
                if pb.context_uri
                else None
            ),
            "progress_ms": pb.progress_ms,
            "item": {
                "type": "track",
                "uri": pb.item_uri,
                "id": pb.item_uri.rsplit(":", 1)[-1],
                "name": track["name"],
                "duration_ms": track["duration_ms"],
                "artists": [{"name": track["artist"]}],
            },
            "currently_playing_type": "track",
            "is_playing": pb.is_playing,
        }

    def _device(self, device_id: str | None) -> dict[str, Any] | None:
        return next((d for d in self.devices if d["id"] == device_id), None)

    # -- HTTP ---------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        if raw:
            if request.content_type == "application/json":
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
            else:
                body = dict(await request.post())
        header = request.headers.get("Authorization", "")
        entry = LoggedRequest(
            request.method,
            request.path,
            dict(request.query),
            body,
            time.monotonic(),
            token=header.removeprefix("Bearer ") if header.startswith("Bearer ") else None,
        )
        self.log.append(entry)
        self._logged.set()
        self._logged = asyncio.Event()
        request["json"] = body
        api = request.path.startswith("/v1/")
        if api:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            fault = await self._injected(request)
            if fault is None or fault.apply:
                response = await handler(request)
            if fault is not None:
                response = fault.response()
        finally:
            if api:
                self.in_flight -= 1
        entry.status = response.status
        return response

    async def _injected(self, request: web.Request) -> _Fault | None:
        """Apply a pending delay; return the fault this request answers with, if any."""
        if request.path.startswith("/v1/") and self._slow:
            delay, count = self._slow[0]
            if count <= 1:
                self._slow.pop(0)
            else:
                self._slow[0] = (delay, count - 1)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
        for fault in self._faults:
            if fault.matches(request) and fault.skip > 0:
                fault.skip -= 1
                continue
            if fault.matches(request) and fault.count > 0:
                fault.count -= 1
                self._faults = [f for f in self._faults if f.count > 0]
                return fault
        return None

    def _auth(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return _error(401, "No token provided")
        token = header.removeprefix("Bearer ")
        expires_at = self.access_tokens.get(token)
        if expires_at is None:
            return _error(401, "Invalid access token")
        if expires_at <= time.time():
            return _error(401, "The access token expired")
        return None

    def _command_guard(self, request: web.Request) -> web.Response | None:
        if (denied := self._auth(request)) is not None:
            return denied
        if self.product != "premium":
            return _error(403, "Player command failed: Premium required", "PREMIUM_REQUIRED")
        return None

    async def _token(self, request: web.Request) -> web.Response:
        form = request["json"] or {}
        client_id = form.get("client_id")
        if (auth := request.headers.get("Authorization", "")).startswith("Basic "):
            client_id = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
        if client_id != self.client_id:
            return web.json_response(
                {"error": "invalid_client", "error_description": "Invalid client"}, status=400
            )
        grant = form.get("grant_type")
        if grant == "refresh_token":
            given = form.get("refresh_token")
            main = self.refresh_valid and given == self.refresh_token
            if not main and given not in self.other_refresh_tokens:
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Refresh token revoked"},
                    status=400,
                )
        elif grant == "authorization_code":
            if form.get("code") not in self.auth_codes:
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Invalid authorization code"},
                    status=400,
                )
        else:
            return web.json_response(
                {"error": "unsupported_grant_type", "error_description": f"{grant}"}, status=400
            )
        token = self.issue_token()
        body = {k: token[k] for k in ("access_token", "token_type", "expires_in", "scope")}
        if grant == "authorization_code":
            body["refresh_token"] = self.refresh_token
        return web.json_response(body)

    async def _authorize(self, request: web.Request) -> web.Response:
        """Consent page stand-in: approve at once and redirect back with a code."""
        query = request.query
        if query.get("client_id") != self.client_id:
            return web.Response(status=400, text="INVALID_CLIENT: Invalid client")
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri or query.get("response_type") != "code":
            return web.Response(status=400, text="Illegal redirect_uri or response_type")
        code = secrets.token_urlsafe(8)
        self.auth_codes.add(code)
        location = URL(redirect_uri).update_query(code=code, state=query.get("state", ""))
        raise web.HTTPFound(str(location))

    # -- control API (for tests driving the fake from another process) ----------------

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"playback": self.state(), "product": self.product, "devices": self.devices}
        )

    async def _control_log(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"method": r.method, "path": r.path, "query": r.query, "status": r.status}
                for r in self.log
                if not r.path.startswith("/_fake/")
            ]
        )

    async def _control(self, request: web.Request) -> web.Response:
        """``POST /_fake/<action>`` with JSON keyword arguments.

        Actions: user_play, user_pause, user_resume, user_seek, user_transfer,
        remove_device, go_inactive, go_idle, expire_tokens, revoke_refresh_token, fail_next,
        slow_next, clear_log, product (``{"product": "free"}``), settings
        (``{"lag": 1.0, "idle_after": 30}``).
        """
        action = request.match_info["action"]
        kwargs = request["json"] or {}
        allowed = {
            "user_play", "user_pause", "user_resume", "user_seek", "user_transfer",
            "remove_device", "go_inactive", "go_idle", "expire_tokens",
            "revoke_refresh_token", "fail_next", "slow_next", "clear_log",
        }  # fmt: skip
        if action == "product":
            self.product = str(kwargs.get("product", "premium"))
        elif action == "settings":
            self.lag = float(kwargs.get("lag", self.lag))
            if "idle_after" in kwargs:
                self.idle_after = kwargs["idle_after"]
        elif action in allowed:
            try:
                getattr(self, action)(**kwargs)
            except (TypeError, AssertionError, KeyError) as err:
                return web.json_response({"error": repr(err)}, status=400)
        else:
            return web.json_response({"error": f"unknown action {action}"}, status=404)
        return web.json_response({"ok": True, "playback": self.state()})

    async def _me(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        return web.json_response({**self.user, "product": self.product, "type": "user"})

    async def _player(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        if (state := self.visible_state()) is None:
            return web.Response(status=204)
        return web.json_response(state)

    async def _currently_playing(self, request: web.Request) -> web.Response:
        return await self._player(request)

    async def _devices(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        active = self.playback.device_id if self.playback else None
        devices = [
            {
                **d,
                "is_active": d["id"] == active,
                "is_private_session": False,
                "is_restricted": bool(d.get("is_restricted", False)),
            }
            for d in self.devices
        ]
        return web.json_response({"devices": devices})

    async def _transfer(self, request: web.Request) -> web.Response:
        if (denied := self._command_guard(request)) is not None:
            return denied
        body = request["json"] or {}
        ids = body.get("device_ids") or []
        if len(ids) != 1 or self._device(ids[0]) is None:
            return _error(404, "Device not found")
        if self.playback is None:
            return _error(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")
        self._freeze(bool(body.get("play", self.playback.is_playing)))
        self.playback.device_id = ids[0]
        self.playback.changed = time.time()
        return web.Response(status=204)

    def _target_device(self, request: web.Request) -> web.Response | str | None:
        """Return the device a command targets, or an error response.

        A restricted device (the one it targets, else the active one) refuses every
        command. A command that will be carried out starts the state lag.
        """
        device_id = request.query.get("device_id")
        if device_id is not None and self._device(device_id) is None:
            return _error(404, "Device not found")
        device = self._device(device_id or (self.playback.device_id if self.playback else None))
        if device is not None and device.get("is_restricted"):
            return _error(403, "Player command failed: Restriction violated", "UNKNOWN")
        self._before_command()
        return device_id

    async def _pause(self, request: web.Request) -> web.Response:
        if (denied := self._command_guard(request)) is not None:
            return denied
        device_id = self._target_device(request)
        if isinstance(device_id, web.Response):
            return device_id
        if self.playback is None or (device_id and device_id != self.playback.device_id):
            return _error(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")
        if not self.playback.is_playing:
            return _error(403, "Player command failed: Restriction violated", "UNKNOWN")
        self._freeze(False)
        return web.Response(status=204)

    async def _play(self, request: web.Request) -> web.Response:
        if (denied := self._command_guard(request)) is not None:
            return denied
        device_id = self._target_device(request)
        if isinstance(device_id, web.Response):
            return device_id
        body = request["json"] or {}
        if body.get("context_uri") or body.get("uris"):
            return self._start(device_id, body)
        if self.playback is None:
            return _error(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")
        if device_id and device_id != self.playback.device_id:
            self._freeze(True)  # resume on another device: a transfer
            self.playback.device_id = device_id
            return web.Response(status=204)
        if self.playback.is_playing:
            return _error(403, "Player command failed: Restriction violated", "UNKNOWN")
        self._freeze(True)
        if "position_ms" in body:
            self.user_seek(int(body["position_ms"]))
        return web.Response(status=204)

    async def _next(self, request: web.Request) -> web.Response:
        return self._skip(request, +1)

    async def _previous(self, request: web.Request) -> web.Response:
        return self._skip(request, -1)

    def _skip(self, request: web.Request, step: int) -> web.Response:
        """Next/previous track of the context (wrapping around); progress starts at 0."""
        if (denied := self._command_guard(request)) is not None:
            return denied
        device_id = self._target_device(request)
        if isinstance(device_id, web.Response):
            return device_id
        if self.playback is None or (device_id and device_id != self.playback.device_id):
            return _error(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")
        self._advance()
        pb = self.playback
        tracks = CONTEXTS.get(pb.context_uri or "", [pb.item_uri])
        index = tracks.index(pb.item_uri) if pb.item_uri in tracks else 0
        pb.item_uri = tracks[(index + step) % len(tracks)]
        pb.progress_ms = 0
        pb.anchor = time.monotonic()
        pb.changed = time.time()
        return web.Response(status=204)

    async def _volume(self, request: web.Request) -> web.Response:
        if (denied := self._command_guard(request)) is not None:
            return denied
        device_id = self._target_device(request)
        if isinstance(device_id, web.Response):
            return device_id
        try:
            volume = int(request.query["volume_percent"])
        except (KeyError, ValueError):
            return _error(400, "Required parameter volume_percent missing")
        if not 0 <= volume <= 100:
            return _error(400, "Invalid volume_percent")
        if self.playback is None and device_id is None:
            return _error(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")
        device = self._device(device_id or (self.playback.device_id if self.playback else None))
        if device is None:
            return _error(404, "Device not found")
        device["volume_percent"] = volume
        return web.Response(status=204)

    def _start(self, device_id: str | None, body: dict[str, Any]) -> web.Response:
        """Start new playback from a context or a list of uris."""
        target = device_id or (self.playback.device_id if self.playback else None)
        if target is None:
            return _error(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")
        context_uri = body.get("context_uri")
        tracks = CONTEXTS.get(context_uri, []) if context_uri else list(body.get("uris") or [])
        if not tracks or any(t not in TRACKS for t in tracks):
            return _error(400, "Invalid context uri" if context_uri else "Invalid track uri")
        offset = body.get("offset") or {}
        if "uri" in offset:
            if offset["uri"] not in tracks:
                return _error(400, "Invalid offset")
            item = offset["uri"]
        else:
            position = int(offset.get("position", 0))
            if position >= len(tracks):
                return _error(400, "Invalid offset")
            item = tracks[position]
        self.playback = _Playback(
            target, context_uri, item, True, int(body.get("position_ms") or 0)
        )
        return web.Response(status=204)
