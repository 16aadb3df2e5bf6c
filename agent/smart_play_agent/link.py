"""Agent mode: analyse the camera here, report to the Smart Play entry in Home Assistant.

The vision pipeline (the integration's own code) runs in its threads; this module's
loop, in the main thread, POSTs the current state to the entry's webhook at once on
every occupancy change and otherwise every ``--interval`` seconds, and applies the
settings Home Assistant answers with (absence delay, sensitivity, exclusion zones,
camera on/off, whether the tracking view is watched, hand gestures). Only while the
tracking view is watched does a small annotated JPEG go along; frames never leave
otherwise. While the answer says gestures are on, the integration's gesture analyzer
runs here too and each gesture is sent at once (a gesture that cannot be delivered
is dropped, never played late).

When Home Assistant cannot be reached the agent keeps analysing and retries with
back-off (1, 2, 4 s, at most :data:`MAX_BACKOFF`); every message carries the whole
current state, so the first one that gets through brings Home Assistant up to date.
Only the standard library is used for HTTP (``urllib``).
"""

from __future__ import annotations

import argparse
import base64
from collections import deque
import contextlib
import json
import signal
import sys
import threading
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

from . import __version__
from .cameras import camera_source, default_camera

MAX_BACKOFF = 5.0  # seconds between retries at most: a restarted HA is found quickly
REQUEST_TIMEOUT = 5.0
FRAME_INTERVAL = 0.5  # seconds between uploaded pictures while the view is watched
JPEG_WIDTH = 480  # uploaded pictures are scaled down to this width at most


def _say(text: str) -> None:
    """Tell the user (stderr; stdout stays free for --json)."""
    sys.stderr.write(f"smart-play-agent: {text}\n")
    sys.stderr.flush()


class Rejected(Exception):
    """Home Assistant answered, but not as the Smart Play entry would."""


class Reporter:
    """Owns the pipeline and talks to Home Assistant (main thread)."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Prepare (nothing is opened yet)."""
        base = args.url.strip().rstrip("/")
        if "://" not in base:
            base = f"http://{base}"
        self.url = base
        self.endpoint = f"{base}/api/webhook/{urllib.parse.quote(args.key.strip(), safe='')}"
        self.args = args
        self.source = camera_source(args.source) if args.source else default_camera()
        self.interval = max(0.5, float(args.interval))
        self.delay = float(args.delay)
        self.sensitivity = int(args.sensitivity)
        self.fps = float(args.fps or 10.0)
        self.exclude_zones: list[Any] = []
        self.gestures_on = False
        self.gesture_zone: list[float] | None = None  # None: the analyzer's default
        self.gesture_mirror = True
        self._gestures: Any = None  # GestureAnalyzer, made when the camera opens
        self._gesture_events: deque[Any] = deque()
        self.camera_wanted = True
        self.watched = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pipeline: Any = None
        self._engine: Any = None
        self._state = "unknown"
        self._reason = "starting"
        self._t = 0.0
        self._seq = 0
        self._camera = "stopped"
        self._camera_reason: str | None = None
        self._problem: str | None = None
        self._connected_once = False

    # ------------------------------------------------------------- pipeline
    def open_camera(self) -> None:
        """Open the camera and start analysing (idempotent)."""
        if self._pipeline is not None:
            return
        from .vision.engine import EngineConfig, OccupancyEngine
        from .vision.pipeline import VisionPipeline
        from .vision.source import FrameSource

        self._engine = OccupancyEngine(
            EngineConfig(
                delay=self.delay,
                sensitivity=self.sensitivity,
                use_opencv=False if self.args.no_opencv else None,
            )
        )
        self._apply_zones()
        if self._gestures is None:
            from .vision.gestures import GestureAnalyzer

            self._gestures = GestureAnalyzer(self._on_gesture)
        self._apply_gestures()
        from .vision.analysis import AnalyzingEngine

        analysed = AnalyzingEngine(self._engine, [self._gestures])
        source = FrameSource(self.source, fps_cap=self.fps, loop=self.args.loop, realtime=True)
        self._pipeline = VisionPipeline(
            source,
            analysed,
            on_transition=self._on_transition,
            on_source_state=self._on_source_state,
            renderer=self._render,
        )
        self._pipeline.start()
        _say(f"camera {source.display} opened")

    def close_camera(self, why: str) -> None:
        """Stop analysing and release the camera."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return
        pipeline.stop(timeout=5.0)
        with self._lock:
            if self._state != "unknown":
                self._seq += 1
            self._state, self._reason = "unknown", why
            self._camera, self._camera_reason = "stopped", why
        _say(f"camera closed ({why})")

    def _on_transition(self, transition: Any) -> None:
        with self._lock:
            self._state = str(transition.state)
            self._reason = transition.reason
            self._t = float(transition.t)
            self._seq += 1
        if self.args.json:
            line = json.dumps(
                {
                    "t": round(transition.t, 3),
                    "state": str(transition.state),
                    "reason": transition.reason,
                }
            )
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        self._wake.set()  # report it at once

    def _on_source_state(self, state: Any) -> None:
        with self._lock:
            self._camera = str(state.status)
            self._camera_reason = state.reason
        self._wake.set()

    def _on_gesture(self, event: Any) -> None:
        """Queue a gesture (pipeline thread) and wake the loop to send it at once."""
        self._gesture_events.append(event)
        self._wake.set()

    def _render(self, image: Any, result: Any, delay: float) -> bytes:
        """Return a small annotated JPEG (only while the tracking view is watched)."""
        from .vision import render

        annotated = image if result is None else render.annotate(image, result, delay=delay)
        if result is not None and self._gestures is not None:
            self._gestures.draw(annotated, result)  # the zone (and the last gesture)
        step = max(1, int(annotated.shape[1] // JPEG_WIDTH))
        return render.encode_jpeg(annotated[::step, ::step], quality=70)

    def _apply_zones(self) -> None:
        setter = getattr(self._engine, "set_exclude_zones", None)
        if setter is not None:
            zones = tuple(tuple(float(v) for v in zone) for zone in self.exclude_zones)
            setter(zones)

    def _apply_gestures(self) -> None:
        analyzer = self._gestures
        if analyzer is None:
            return
        analyzer.detector.config.mirror = self.gesture_mirror
        if self.gesture_zone is not None and tuple(self.gesture_zone) != analyzer.zone:
            try:
                analyzer.set_zone(tuple(self.gesture_zone))
            except (TypeError, ValueError) as err:
                _say(f"ignoring the gesture zone from Home Assistant ({err})")
        if analyzer.enabled != self.gestures_on:
            analyzer.enabled = self.gestures_on
            _say("hand gestures " + ("on" if self.gestures_on else "off"))

    # -------------------------------------------------------------- protocol
    def message(self, kind: str) -> dict[str, Any]:
        """Return the agent's whole current state."""
        pipeline = self._pipeline
        stats = pipeline.stats if pipeline is not None else None
        with self._lock:
            message: dict[str, Any] = {
                "v": 1,
                "kind": kind,
                "agent": __version__,
                "state": self._state,
                "reason": self._reason[:300],
                "t": round(max(0.0, self._t), 3),
                "seq": self._seq,
                "camera": self._camera,
                "camera_reason": None if self._camera_reason is None else self._camera_reason[:300],
                "fps": round(stats.fps, 2) if stats is not None else 0.0,
                "motion": round(min(100.0, stats.motion_score), 2) if stats is not None else 0.0,
                "interval": self.interval,
            }
        if kind == "frame" and pipeline is not None:
            jpeg = pipeline.latest_jpeg()
            if jpeg is not None:
                message["jpeg"] = base64.b64encode(jpeg).decode("ascii")
        return message

    def send(self, message: dict[str, Any]) -> dict[str, Any]:
        """POST one message; return Home Assistant's answer or raise."""
        body = json.dumps(message).encode()
        request = urllib.request.Request(
            self.endpoint,
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"smart-play-agent/{__version__}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                raw = response.read(65536)
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise Rejected(
                    f"{self.url} answered 404: is this the address of Home Assistant "
                    "(e.g. http://homeassistant.local:8123)?"
                ) from err
            detail = ""
            with contextlib.suppress(ValueError, AttributeError, OSError):
                detail = json.loads(err.read(4096)).get("error", "")
            raise Rejected(
                f"Home Assistant refused the report ({err.code} {detail})".strip()
            ) from err
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or answer.get("v") != 1:
            # Home Assistant answers unknown webhooks with an empty 200.
            raise Rejected(
                f"Home Assistant at {self.url} does not know this key (still starting? "
                "otherwise copy the command again from Settings > Devices & services > "
                "Smart Play > Configure > Desk agent command); retrying"
            )
        return answer

    def apply(self, answer: dict[str, Any]) -> None:
        """Apply the settings of Home Assistant's answer."""
        settings = answer.get("settings") or {}
        self.watched = bool(answer.get("watched"))
        if "delay" in settings and float(settings["delay"]) != self.delay:
            self.delay = float(settings["delay"])
            if self._engine is not None:
                self._engine.set_delay(self.delay)
        if "sensitivity" in settings and int(settings["sensitivity"]) != self.sensitivity:
            self.sensitivity = int(settings["sensitivity"])
            if self._engine is not None:
                self._engine.set_sensitivity(self.sensitivity)
        zones = list(settings.get("exclude_zones") or [])
        if zones != self.exclude_zones:
            self.exclude_zones = zones
            if self._engine is not None:
                self._apply_zones()
        gestures = settings.get("gestures") or {}
        zone = gestures.get("zone")
        wanted_gestures = (
            bool(gestures.get("enabled")),
            [float(v) for v in zone] if isinstance(zone, list) else self.gesture_zone,
            bool(gestures.get("mirror", True)),
        )
        if wanted_gestures != (self.gestures_on, self.gesture_zone, self.gesture_mirror):
            self.gestures_on, self.gesture_zone, self.gesture_mirror = wanted_gestures
            self._apply_gestures()
        if settings.get("fps"):
            self.fps = float(settings["fps"])  # applies when the camera is opened next
        wanted = bool(answer.get("camera", True))
        if wanted != self.camera_wanted or (wanted and self._pipeline is None):
            self.camera_wanted = wanted
            if wanted:
                self.open_camera()
            else:
                self.close_camera("camera switched off in Home Assistant")

    # ------------------------------------------------------------------ loop
    def _report(self, kind: str, gesture: Any = None) -> bool:
        """Send one message; True when Home Assistant took it."""
        message = self.message(kind)
        if gesture is not None:
            message["gesture"] = {
                "gesture": str(gesture.gesture),
                "motion": str(gesture.motion)[:40],
                "t": round(max(0.0, float(gesture.t)), 3),
            }
        try:
            answer = self.send(message)
        except Rejected as err:
            self._trouble(str(err))
            return False
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            reason = getattr(err, "reason", err)
            self._trouble(f"cannot reach Home Assistant at {self.url} ({reason}); retrying")
            return False
        if self._problem is not None or not self._connected_once:
            _say(f"reporting to Home Assistant at {self.url}")
        self._problem = None
        self._connected_once = True
        self.apply(answer)
        return True

    def _trouble(self, text: str) -> None:
        if text != self._problem:
            _say(text)
        self._problem = text

    def run(self) -> int:
        """Report until stopped (Ctrl+C / SIGTERM)."""
        # First contact before opening the camera: a camera switched off in Home
        # Assistant is not opened at all.
        if not self._report("heartbeat") or self.camera_wanted:
            self.open_camera()
        backoff = 1.0
        next_heartbeat = time.monotonic() + self.interval
        next_frame = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            due = next_heartbeat
            if self.watched and self._problem is None:
                due = min(due, next_frame)
            if self._problem is not None:
                due = min(due, now + backoff)
            transition = self._wake.wait(max(0.0, due - now))
            if self._stop.is_set():
                break
            self._wake.clear()
            now = time.monotonic()
            if self._gesture_events:
                # Each gesture at once (with the whole state); one that cannot be
                # delivered now is dropped: a late play/pause would surprise.
                ok = True
                while self._gesture_events:
                    event = self._gesture_events.popleft()
                    if self.gestures_on:
                        ok = self._report("gesture", event) and ok
                if ok:
                    backoff = 1.0
                    next_heartbeat = time.monotonic() + self.interval
                continue
            if self._problem is not None and not transition and now < due:
                continue
            if self.watched and now >= next_frame:
                kind = "frame"
                next_frame = now + FRAME_INTERVAL
            else:
                kind = "transition" if transition else "heartbeat"
            if self._report(kind):
                backoff = 1.0
                next_heartbeat = time.monotonic() + self.interval
            else:
                backoff = min(MAX_BACKOFF, backoff * 2)
        self.close_camera("agent stopped")
        return 0

    def stop(self) -> None:
        """Stop the loop (from a signal handler)."""
        self._stop.set()
        self._wake.set()


def run_agent(args: argparse.Namespace) -> int:
    """Run the agent until interrupted; returns the exit code."""
    reporter = Reporter(args)

    def _stop(_signum: int, _frame: Any) -> None:
        reporter.stop()

    signal.signal(signal.SIGTERM, _stop)
    try:
        signal.signal(signal.SIGINT, _stop)
        return reporter.run()
    except KeyboardInterrupt:
        reporter.stop()
        return 0
