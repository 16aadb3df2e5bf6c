"""What the vision code needs from Python 3.11+, with fallbacks for Python 3.10.

The desk agent (``smart-play-agent``) runs this package on desk computers, where
Python 3.10 is still common; Home Assistant itself runs 3.13.
"""

from __future__ import annotations

from enum import Enum
import sys

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - exercised by the agent on Python 3.10

    class StrEnum(str, Enum):
        """Python 3.10 stand-in for :class:`enum.StrEnum` (members are their value)."""

        def __str__(self) -> str:
            """Return the value, as ``enum.StrEnum`` does."""
            return str(self.value)


__all__ = ["StrEnum"]
