"""Run a real Home Assistant (`hass`) process with Smart Play, and talk to it.

Used by the end-to-end tests, `scripts/demo`, `scripts/screenshots` and `bench/soak.py`.

* `HassProcess` (blocking): writes a config dir with the repo's integration symlinked
  into it, starts `python -m homeassistant -c DIR` on 127.0.0.1, waits for it, completes
  onboarding through HA's own HTTP API (or logs in again when already onboarded), stops
  it gracefully and reads its log.
* `HassClient` (asyncio, aiohttp): REST + websocket client with helpers for the config
  flow, states, services and events.

This module never imports Home Assistant itself (it only reads files of the installed
package), so it is cheap to import and safe in a pytest process that runs an in-process
`hass` fixture at the same time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
import contextlib
from dataclasses import dataclass
import importlib.metadata
import importlib.util
import json
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import sys
import time
from types import TracebackType
from typing import Any, Self

import aiohttp
import requests

REPO = Path(__file__).resolve().parents[2]
INTEGRATION_DIR = REPO / "custom_components" / "smart_play"
DATA_DIR = REPO / "tests" / "data"
HOST = "127.0.0.1"

# The frontend is set up unconditionally by HA; without its package HA falls back to
# recovery mode, which loads no custom integration at all.
FRONTEND = "frontend"

MINIMAL_CONFIGURATION = """\
# Written by tests/e2e/hass_process.py
frontend:
config:
api:
websocket_api:
history:
logbook:
http:
  server_host: {host}
  server_port: {port}
logger:
  default: warning
  logs:
    custom_components.smart_play: debug
    homeassistant.setup: info
    homeassistant.bootstrap: info
{extra}
"""


class HassError(RuntimeError):
    """The Home Assistant process did not do what we asked."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def venv_python() -> str:
    """The interpreter that has Home Assistant: this one if it has it, else the repo's .venv.

    So the suite run in .venv-ha-new (scripts/test) starts hass on the newest HA too.
    """
    if importlib.util.find_spec("homeassistant") is not None:
        return sys.executable
    candidate = REPO / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def _homeassistant_dir(python: str) -> Path:
    """Folder of the `homeassistant` package installed for `python`."""
    if Path(python).resolve() == Path(sys.executable).resolve():
        spec = importlib.util.find_spec("homeassistant")
        if spec is None or spec.origin is None:
            raise HassError("homeassistant is not installed; run scripts/setup")
        return Path(spec.origin).parent
    out = subprocess.run(
        [python, "-c", "import homeassistant, os; print(os.path.dirname(homeassistant.__file__))"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Path(out.stdout.strip())


def integration_requirements(domain: str, python: str | None = None) -> list[str]:
    """`requirements` of a built-in integration's manifest, for the installed HA."""
    manifest = _homeassistant_dir(python or venv_python()) / "components" / domain / "manifest.json"
    return list(json.loads(manifest.read_text())["requirements"])


def _installed(requirement: str, python: str) -> bool:
    """Whether `name==version` (or a bare name) is installed for `python`."""
    name, _, version = requirement.partition("==")
    code = (
        "import importlib.metadata as m, sys\n"
        "try:\n    v = m.version(sys.argv[1])\nexcept m.PackageNotFoundError:\n    sys.exit(1)\n"
        "sys.exit(0 if not sys.argv[2] or v == sys.argv[2] else 1)\n"
    )
    if Path(python).resolve() == Path(sys.executable).resolve():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return False
        return not version or installed == version
    return (
        subprocess.run([python, "-c", code, name, version], check=False, timeout=60).returncode == 0
    )


def ensure_requirements(
    requirements: Iterable[str], python: str | None = None, *, log: Callable[[str], None] = print
) -> list[str]:
    """pip-install whichever of `requirements` is missing; return what was installed."""
    python = python or venv_python()
    missing = [req for req in requirements if not _installed(req, python)]
    if missing:
        log(f"Installing {' '.join(missing)} into {Path(python).parent.parent} ...")
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *missing],
            check=True,
            timeout=900,
        )
    return missing


def ensure_frontend(python: str | None = None, *, log: Callable[[str], None] = print) -> None:
    """Install the home-assistant-frontend version the installed HA pins, if missing."""
    python = python or venv_python()
    ensure_requirements(integration_requirements(FRONTEND, python), python, log=log)


@dataclass
class Tokens:
    """An access token of a logged-in HA user."""

    access_token: str
    refresh_token: str
    expires_at: float

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header."""
        return {"Authorization": f"Bearer {self.access_token}"}


SPOTIFY_HOOK_DIR = Path(__file__).parent / "spotify_hook"


def fake_spotify_env(base: str) -> dict[str, str]:
    """Env for a hass process whose Smart Play talks to the fake Spotify at ``base``.

    Puts tests/e2e/spotify_hook (a ``sitecustomize`` import hook that rewrites the
    Spotify endpoints in ``const.py`` as it loads) first on ``PYTHONPATH``. Test-only:
    the integration itself cannot be redirected.
    """
    path = os.pathsep.join(p for p in (str(SPOTIFY_HOOK_DIR), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, "SMART_PLAY_TEST_FAKE_SPOTIFY": base.rstrip("/")}


class HassProcess:
    """A real `hass -c DIR` process on 127.0.0.1 with Smart Play symlinked in."""

    def __init__(
        self,
        config_dir: Path,
        *,
        port: int | None = None,
        extra_config: str = "demo:\n",
        configuration: str | None = None,
        custom_components: Mapping[str, Path] | None = None,
        python: str | None = None,
        username: str = "demo",
        password: str = "demo1234",
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Describe the instance; nothing is started or written yet.

        `extra_config` is appended to the minimal configuration.yaml (default: HA's demo
        integration, which brings demo media players). `configuration` replaces the
        whole file (it may use `{host}` and `{port}`). `custom_components` maps folder
        names to directories symlinked into `<config>/custom_components/`. `env` adds
        environment variables for the process (e.g. :func:`fake_spotify_env`).
        """
        self.config_dir = Path(config_dir)
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.client_id = f"{self.url}/"
        self.extra_config = extra_config
        self.configuration = configuration
        self.custom_components = dict(custom_components or {"smart_play": INTEGRATION_DIR})
        self.python = python or venv_python()
        self.username = username
        self.password = password
        self.env = dict(env or {})
        self.tokens: Tokens | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._stdout: Any = None

    # ------------------------------------------------------------------ files
    @property
    def log_path(self) -> Path:
        """home-assistant.log of this instance."""
        return self.config_dir / "home-assistant.log"

    def prepare(self, *, overwrite: bool = True) -> None:
        """Write configuration.yaml and symlink the custom components."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        cfg = self.config_dir / "configuration.yaml"
        if overwrite or not cfg.exists():
            text = self.configuration or MINIMAL_CONFIGURATION
            cfg.write_text(text.format(host=HOST, port=self.port, extra=self.extra_config))
        self._seed_onboarding()
        cc = self.config_dir / "custom_components"
        cc.mkdir(exist_ok=True)
        for name, src in self.custom_components.items():
            link = cc / name
            if link.is_symlink() or link.is_file():
                if link.is_symlink() and Path(os.readlink(link)) == Path(src):
                    continue
                link.unlink()
            elif link.exists():
                continue  # a real folder someone put there: leave it alone
            link.symlink_to(Path(src), target_is_directory=True)

    def _seed_onboarding(self) -> None:
        """Mark onboarding's core_config step done in a new config dir.

        Finishing that step through the API makes HA start config flows for cloud
        services (Met weather, Google Translate, Radio Browser) that fail offline and
        leave failed entries behind; everything else is still done through the API.
        """
        store = self.config_dir / ".storage" / "onboarding"
        if store.exists():
            return
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(
            json.dumps(
                {
                    "version": 4,
                    "minor_version": 1,
                    "key": "onboarding",
                    "data": {"done": ["core_config"]},
                }
            )
        )

    def log_text(self) -> str:
        """Everything HA logged so far (empty before the first start)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # ---------------------------------------------------------------- process
    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 90.0, *, onboard: bool = True) -> Self:
        """Start hass, wait until it serves HTTP and finished starting; log in."""
        if self.running:
            return self
        self.prepare(overwrite=not (self.config_dir / "configuration.yaml").exists())
        if self._stdout is not None:
            self._stdout.close()
        self._stdout = open(self.config_dir / "hass.stdout.log", "ab")
        self.proc = subprocess.Popen(
            [self.python, "-m", "homeassistant", "-c", str(self.config_dir), "--skip-pip"],
            stdout=self._stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=str(self.config_dir),
            env={**os.environ, **self.env},
            start_new_session=True,  # Ctrl-C in a terminal reaches our wrapper only
        )
        deadline = time.monotonic() + timeout
        self._wait_http(deadline)
        if onboard:
            self.login()
            self.wait_running(deadline - time.monotonic())
        return self

    def _wait_http(self, deadline: float) -> None:
        while True:
            if not self.running:
                raise HassError(
                    f"hass exited with {self.proc and self.proc.returncode}:\n{self.tail()}"
                )
            with contextlib.suppress(requests.RequestException):
                # Served without a token (a 401 from /api/ would log a failed login).
                if requests.get(f"{self.url}/manifest.json", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise HassError(f"hass did not serve HTTP on {self.url} in time:\n{self.tail()}")
            time.sleep(0.25)

    def wait_running(self, timeout: float = 60.0) -> None:
        """Wait until HA reports state RUNNING (startup finished)."""
        deadline = time.monotonic() + max(timeout, 1.0)
        state = None
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException, ValueError):
                state = self.api("GET", "/api/config").get("state")
                if state == "RUNNING":
                    return
            time.sleep(0.25)
        raise HassError(f"hass still {state!r} after {timeout:.0f} s:\n{self.tail()}")

    def stop(self, timeout: float = 30.0) -> int | None:
        """Ask hass to stop (SIGTERM), wait, kill if it hangs; return its exit code."""
        proc, self.proc = self.proc, None
        code: int | None = None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    code = proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    code = proc.wait(10)
            else:
                code = proc.returncode
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None
        self.tokens = None
        return code

    def restart(self, timeout: float = 90.0) -> Self:
        """Stop and start again with the same config dir."""
        self.stop()
        return self.start(timeout)

    def tail(self, lines: int = 40) -> str:
        """Last lines of the log (for error messages)."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> Self:
        """Start on entering a with-block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving it."""
        self.stop()

    # ------------------------------------------------------------------- auth
    def onboarded_steps(self) -> list[str]:
        """Return the onboarding steps still to do (GET /api/onboarding, no auth)."""
        resp = requests.get(f"{self.url}/api/onboarding", timeout=10)
        if resp.status_code == 404:  # onboarding finished: HA no longer serves it
            return []
        _raise_for(resp, "onboarding status")
        return [step["step"] for step in resp.json() if not step["done"]]

    def login(self, *, full_onboarding: bool = False) -> Tokens:
        """Create the owner through onboarding, or log in when it exists; return tokens.

        With `full_onboarding` the remaining steps (analytics, integration) are finished
        too, so a browser lands on the dashboard instead of the onboarding wizard.
        """
        todo = self.onboarded_steps()
        if "user" in todo:
            resp = requests.post(
                f"{self.url}/api/onboarding/users",
                json={
                    "client_id": self.client_id,
                    "name": self.username.capitalize(),
                    "username": self.username,
                    "password": self.password,
                    "language": "en",
                },
                timeout=30,
            )
            _raise_for(resp, "onboarding user")
            code = resp.json()["auth_code"]
        else:
            code = self._login_flow()
        self.tokens = self._token({"grant_type": "authorization_code", "code": code})
        if full_onboarding:
            self._finish_onboarding(todo)
        return self.tokens

    def _login_flow(self) -> str:
        resp = requests.post(
            f"{self.url}/auth/login_flow",
            json={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{self.client_id}?auth_callback=1",
            },
            timeout=30,
        )
        _raise_for(resp, "login flow")
        resp = requests.post(
            f"{self.url}/auth/login_flow/{resp.json()['flow_id']}",
            json={
                "client_id": self.client_id,
                "username": self.username,
                "password": self.password,
            },
            timeout=30,
        )
        _raise_for(resp, "login")
        body = resp.json()
        if body.get("type") != "create_entry":
            raise HassError(f"login as {self.username!r} failed: {body.get('errors')}")
        return str(body["result"])

    def _token(self, data: dict[str, str]) -> Tokens:
        resp = requests.post(
            f"{self.url}/auth/token", data={**data, "client_id": self.client_id}, timeout=30
        )
        _raise_for(resp, "token")
        body = resp.json()
        return Tokens(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token")
            or (self.tokens.refresh_token if self.tokens else ""),
            expires_at=time.time() + float(body.get("expires_in", 1800)),
        )

    def _finish_onboarding(self, todo: list[str]) -> None:
        assert self.tokens is not None
        headers = self.tokens.headers
        if "core_config" in todo:
            _raise_for(
                requests.post(
                    f"{self.url}/api/onboarding/core_config", headers=headers, timeout=60
                ),
                "core_config",
            )
        if "analytics" in todo:
            _raise_for(
                requests.post(f"{self.url}/api/onboarding/analytics", headers=headers, timeout=30),
                "analytics",
            )
        if "integration" in todo:
            resp = requests.post(
                f"{self.url}/api/onboarding/integration",
                headers=headers,
                json={
                    "client_id": self.client_id,
                    "redirect_uri": f"{self.client_id}?auth_callback=1",
                },
                timeout=30,
            )
            _raise_for(resp, "integration step")

    @property
    def access_token(self) -> str:
        """A valid access token (refreshed when it is about to expire)."""
        if self.tokens is None:
            self.login()
        assert self.tokens is not None
        if self.tokens.expires_at - time.time() < 120 and self.tokens.refresh_token:
            self.tokens = self._token(
                {"grant_type": "refresh_token", "refresh_token": self.tokens.refresh_token}
            )
        return self.tokens.access_token

    def api(self, method: str, path: str, body: Any = None, *, timeout: float = 30.0) -> Any:
        """Blocking authenticated REST call; JSON result (raises on HTTP errors)."""
        resp = requests.request(
            method,
            f"{self.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.access_token}"},
            timeout=timeout,
        )
        _raise_for(resp, f"{method} {path}")
        return resp.json() if resp.content else None

    def client(self) -> HassClient:
        """An asyncio client for this instance (use `async with`)."""
        return HassClient(self.url, self.access_token)


def _raise_for(resp: requests.Response, what: str) -> None:
    if resp.status_code >= 400:
        raise HassError(f"{what}: HTTP {resp.status_code} {resp.text[:500]}")


class HassClient:
    """Async REST + websocket client for a running HA (one websocket, lazily opened)."""

    def __init__(self, url: str, token: str) -> None:
        """Remember where and who; connect in `__aenter__`."""
        self.url = url
        self.token = token
        self.session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._subscriptions: dict[int, asyncio.Queue[dict[str, Any]]] = {}

    async def __aenter__(self) -> Self:
        """Open the HTTP session."""
        self.session = aiohttp.ClientSession(
            headers={
                "Authorization": f"Bearer {self.token}",
                # Sent by HA's frontend; OAuth2 flows build their redirect URI from it.
                "HA-Frontend-Base": self.url,
            }
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close websocket and session."""
        await self.close()

    async def reconnect(self) -> None:
        """Drop all connections and open a new HTTP session (e.g. around a restart).

        An open websocket keeps HA's HTTP server from shutting down for ~10 s.
        """
        await self.close()
        self._pending.clear()
        self._subscriptions.clear()
        await self.__aenter__()

    async def close(self) -> None:
        """Close websocket and session; cancel the websocket reader."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self.session is not None:
            await self.session.close()
            self.session = None

    # ------------------------------------------------------------------- REST
    async def rest(
        self, method: str, path: str, body: Any = None, *, expect: int | None = 200
    ) -> Any:
        """REST call; returns JSON (or None). Raises HassError if status != expect."""
        assert self.session is not None, "use `async with HassClient(...)`"
        async with self.session.request(method, f"{self.url}{path}", json=body) as resp:
            text = await resp.text()
            if expect is not None and resp.status != expect:
                raise HassError(f"{method} {path}: HTTP {resp.status} {text[:500]}")
            return json.loads(text) if text else None

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """State object of an entity, or None if it does not exist."""
        assert self.session is not None
        async with self.session.get(f"{self.url}/api/states/{entity_id}") as resp:
            if resp.status == 404:
                return None
            if resp.status != 200:
                raise HassError(f"GET state {entity_id}: HTTP {resp.status}")
            return dict(await resp.json())

    async def states(self) -> list[dict[str, Any]]:
        """All state objects."""
        return list(await self.rest("GET", "/api/states"))

    async def wait_state(
        self,
        entity_id: str,
        expected: str | Iterable[str] | Callable[[dict[str, Any] | None], bool],
        within: float,
        *,
        poll: float = 0.2,
    ) -> dict[str, Any] | None:
        """Poll an entity until its state matches; return the state object.

        Raises AssertionError naming the last state seen when it times out.
        """
        if callable(expected):
            check = expected
        else:
            wanted = {expected} if isinstance(expected, str) else set(expected)

            def check(st: dict[str, Any] | None) -> bool:
                return st is not None and st["state"] in wanted

        deadline = time.monotonic() + within
        last: dict[str, Any] | None = None
        while True:
            last = await self.state(entity_id)
            if check(last):
                return last
            if time.monotonic() > deadline:
                shown = last["state"] if last else "missing"
                raise AssertionError(
                    f"{entity_id} still {shown!r} after {within:.0f} s (wanted {expected!r})"
                )
            await asyncio.sleep(poll)

    async def call_service(
        self, domain: str, service: str, data: Mapping[str, Any] | None = None
    ) -> Any:
        """Call a service over REST."""
        return await self.rest("POST", f"/api/services/{domain}/{service}", dict(data or {}))

    # ------------------------------------------------------------ config flow
    async def flow_start(self, handler: str, *, show_advanced: bool = False) -> dict[str, Any]:
        """POST /api/config/config_entries/flow."""
        return dict(
            await self.rest(
                "POST",
                "/api/config/config_entries/flow",
                {"handler": handler, "show_advanced_options": show_advanced},
            )
        )

    async def flow_step(self, flow_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """POST the next step of a config flow (a form's data or {'next_step_id': ...})."""
        return dict(
            await self.rest("POST", f"/api/config/config_entries/flow/{flow_id}", dict(data))
        )

    async def flow_abort(self, flow_id: str) -> None:
        """DELETE a config flow in progress."""
        await self.rest("DELETE", f"/api/config/config_entries/flow/{flow_id}")

    async def config_entries(self, domain: str | None = None) -> list[dict[str, Any]]:
        """Config entries, optionally of one domain."""
        query = f"?domain={domain}" if domain else ""
        return list(await self.rest("GET", f"/api/config/config_entries/entry{query}"))

    async def entities_of_entry(self, entry_id: str) -> list[dict[str, Any]]:
        """Entity registry entries of a config entry (websocket)."""
        entries = await self.ws_command({"type": "config/entity_registry/list"})
        return [e for e in entries if e.get("config_entry_id") == entry_id]

    # --------------------------------------------------------------- websocket
    async def _ensure_ws(self) -> aiohttp.ClientWebSocketResponse:
        if self._ws is not None:
            return self._ws
        assert self.session is not None
        ws = await self.session.ws_connect(f"{self.url}/api/websocket", max_msg_size=0)
        hello = await ws.receive_json(timeout=10)
        if hello.get("type") != "auth_required":
            raise HassError(f"unexpected websocket greeting {hello}")
        await ws.send_json({"type": "auth", "access_token": self.token})
        reply = await ws.receive_json(timeout=10)
        if reply.get("type") != "auth_ok":
            raise HassError(f"websocket auth failed: {reply}")
        self._ws = ws
        self._reader = asyncio.create_task(self._read_ws())
        return ws

    async def _read_ws(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            for item in data if isinstance(data, list) else [data]:
                ident = item.get("id")
                if item.get("type") == "event" and ident in self._subscriptions:
                    self._subscriptions[ident].put_nowait(item["event"])
                elif ident in self._pending:
                    fut = self._pending.pop(ident)
                    if not fut.done():
                        fut.set_result(item)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(HassError("websocket closed"))
        self._pending.clear()

    async def ws_raw(self, message: Mapping[str, Any], within: float = 30.0) -> dict[str, Any]:
        """Send one websocket command; return the whole result message."""
        ws = await self._ensure_ws()
        ident = self._next_id
        self._next_id += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[ident] = fut
        await ws.send_json({**message, "id": ident})
        async with asyncio.timeout(within):
            result = await fut
        result["id"] = ident
        return dict(result)

    async def ws_command(self, message: Mapping[str, Any], within: float = 30.0) -> Any:
        """Send one websocket command; return its `result` (raises on error)."""
        reply = await self.ws_raw(message, within)
        if not reply.get("success"):
            raise HassError(f"{message.get('type')}: {reply.get('error')}")
        return reply.get("result")

    async def subscribe_events(
        self, event_type: str | None = None
    ) -> asyncio.Queue[dict[str, Any]]:
        """Subscribe to bus events; returns a queue that receives each event dict."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        msg: dict[str, Any] = {"type": "subscribe_events"}
        if event_type:
            msg["event_type"] = event_type
        ws = await self._ensure_ws()
        ident = self._next_id
        self._next_id += 1
        self._subscriptions[ident] = queue
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[ident] = fut
        await ws.send_json({**msg, "id": ident})
        async with asyncio.timeout(30):
            reply = await fut
        if not reply.get("success"):
            raise HassError(f"subscribe_events failed: {reply}")
        return queue


async def next_event(
    queue: asyncio.Queue[dict[str, Any]],
    within: float,
    match: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """Next event in `queue` (matching `match`), or AssertionError after `within` s."""
    deadline = time.monotonic() + within
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no matching event within {within:.0f} s")
        try:
            event = await asyncio.wait_for(queue.get(), remaining)
        except TimeoutError:
            raise AssertionError(f"no matching event within {within:.0f} s") from None
        if match is None or match(event):
            return event


async def add_media_player_entry(
    client: HassClient,
    media_player: str,
    source: str,
    *,
    loop: bool = True,
    name: str | None = None,
) -> dict[str, Any]:
    """Add Smart Play through the real config flow: media player target + camera source.

    Returns the final flow result (type create_entry, with `result` = the entry).
    """
    flow = await client.flow_start("smart_play")
    if flow["type"] == "menu":
        flow = await client.flow_step(flow["flow_id"], {"next_step_id": "media_player"})
    if flow.get("step_id") == "media_player":
        flow = await client.flow_step(flow["flow_id"], {"media_player_entity_id": media_player})
    if flow.get("step_id") != "camera":
        raise HassError(f"unexpected flow step: {flow}")
    camera: dict[str, Any] = {"source": source, "loop": loop}
    if name:
        camera["name"] = name
    return await client.flow_step(flow["flow_id"], camera)


def log_records(text: str) -> list[str]:
    """Split home-assistant.log into records (a timestamped line plus its traceback)."""
    records: list[str] = []
    for line in text.splitlines():
        if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line) or not records:
            records.append(line)
        else:
            records[-1] += "\n" + line
    return records


def find_clip(*names: str) -> Path | None:
    """First existing clip in tests/data among `names` (glob patterns allowed)."""
    for pattern in names:
        for path in sorted(DATA_DIR.glob(pattern)):
            if path.is_file() and path.stat().st_size > 0:
                return path
    return None
