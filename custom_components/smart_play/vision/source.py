"""Frame sources: files, V4L2 devices, RTSP and HTTP(S) streams via PyAV.

Nothing here imports Home Assistant. This module gathers the public names of
the source modules, one concern each:

* :mod:`.urls` - :func:`parse_source` (validation) and :func:`redact_url` /
  :func:`redact_text` / :func:`scrub`, the one place where URLs are redacted;
* :mod:`.netcheck` - socket pre-checks of network sources (cancellable);
* :mod:`.container` - opening containers (options per kind), decoder setup,
  error mapping;
* :mod:`.ratecap` - the frame-rate cap (frames dropped before any conversion);
* :mod:`.frames` - decoded frames to :class:`~.types.Frame`, and
  :func:`iter_file_frames` (decode a file as fast as possible: CLI/evaluation);
* :mod:`.reader` - :class:`FrameSource`, one reader thread per source that
  always hands out the newest frame, caps the frame rate, detects stalls and
  reconnects with backoff (asking a callable source for its URL again);
* :mod:`.probe` - :func:`probe_source`, the blocking "open and read one frame"
  check for config flows.

Credentials embedded in URLs never reach logs, state reasons, thread names or
exception messages: everything that is shown goes through :mod:`.urls`.
"""

from __future__ import annotations

from .frames import iter_file_frames
from .probe import probe_source
from .reader import FrameSource, SourceSpec
from .urls import MAX_SOURCE_LENGTH, NETWORK_SCHEMES, parse_source, redact_text, redact_url, scrub

__all__ = [
    "MAX_SOURCE_LENGTH",
    "NETWORK_SCHEMES",
    "FrameSource",
    "SourceSpec",
    "iter_file_frames",
    "parse_source",
    "probe_source",
    "redact_text",
    "redact_url",
    "scrub",
]
