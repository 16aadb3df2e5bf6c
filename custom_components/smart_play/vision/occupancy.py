"""Occupancy state machine driven by stream time (frame pts), never wall time."""

from __future__ import annotations

from .types import Occupancy, Transition


class OccupancyStateMachine:
    """OCCUPIED / EMPTY / UNKNOWN with an absence delay.

    * OCCUPIED on the first frame with presence evidence.
    * EMPTY once no presence evidence was seen for ``delay`` seconds of
      stream time while OCCUPIED.
    * While UNKNOWN (start-up, or after the camera was lost) the room becomes
      EMPTY only after ``startup_quiet`` seconds without evidence: a still
      person cannot be told apart from an empty room before anyone moved, so
      the engine waits longer before it dares to say "empty".
    """

    def __init__(self, delay: float, startup_quiet: float) -> None:
        """Start UNKNOWN."""
        self.delay = delay
        self.startup_quiet = startup_quiet
        self.state = Occupancy.UNKNOWN
        self.last_presence: float | None = None
        self.unknown_since: float | None = None

    def quiet_needed(self) -> float:
        """Seconds without evidence needed before EMPTY in the current state."""
        if self.state is Occupancy.UNKNOWN:
            return max(self.delay, self.startup_quiet)
        return self.delay

    def step(
        self, t: float, presence: bool, reason: str, empty_reason: str | None
    ) -> tuple[Transition | None, float | None]:
        """Advance to stream time ``t``; returns (transition, countdown)."""
        if self.unknown_since is None:
            self.unknown_since = t
        if presence:
            self.last_presence = t
            if self.state is not Occupancy.OCCUPIED:
                self.state = Occupancy.OCCUPIED
                return Transition(t, Occupancy.OCCUPIED, reason), None
            return None, None
        if self.state is Occupancy.EMPTY:
            return None, None
        since = self.last_presence if self.state is Occupancy.OCCUPIED else self.unknown_since
        if since is None:
            since = t
        needed = self.quiet_needed()
        left = needed - (t - since)
        if left > 1e-9:
            # No countdown is shown while UNKNOWN: nothing is playing-related yet.
            return None, (left if self.state is Occupancy.OCCUPIED else None)
        self.state = Occupancy.EMPTY
        why = empty_reason or f"no presence for {needed:.1f} s"
        return Transition(t, Occupancy.EMPTY, why), None

    def set_unknown(self, t: float, reason: str) -> Transition | None:
        """Enter UNKNOWN (camera lost); timers restart with the next frame."""
        self.last_presence = None
        self.unknown_since = None
        if self.state is Occupancy.UNKNOWN:
            return None
        self.state = Occupancy.UNKNOWN
        return Transition(t, Occupancy.UNKNOWN, reason)

    def shift(self, delta: float) -> None:
        """Move stored times by ``delta`` (stream time jumped, e.g. file loop)."""
        if self.last_presence is not None:
            self.last_presence += delta
        if self.unknown_since is not None:
            self.unknown_since += delta
