"""Camera source strings: validation and the one place where URLs are redacted.

Nothing here imports Home Assistant. Everything that shows a source (logs,
state reasons, exception messages, thread names, diagnostics, repair texts)
goes through :func:`redact_url` (one URL), :func:`redact_text` (URLs inside a
message) or :func:`scrub` (a message that may quote a known URL or parts of it).

Two strengths of redaction:

* the default removes the password of the userinfo (``user:***@``), a bare
  userinfo (often a token, ``***@``) and the values of secret-looking query
  parameters (``?token=***``);
* ``hide_path=True`` also replaces the whole path and query by ``/***``. A
  camera entity's stream URL is handed out by another integration and often
  carries its token in the path (``rtsp://nvr:7447/AbCdEf123``) or in a query
  parameter we cannot know: only scheme, host and port are shown.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from .types import SourceError

MAX_SOURCE_LENGTH = 2048
NETWORK_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
MASK = "***"
SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_SECRET_KEYS = (
    r"password|passwd|pwd|pass|token|access_token|auth|auth_token|authtoken|key|apikey|"
    r"api_key|secret|sig|signature|session|sessionid|jwt|credential|credentials"
)
_SECRET_QUERY_RE = re.compile(rf"(?i)([?&;](?:{_SECRET_KEYS})=)[^&;#\s]*")
# With keep_user=False (diagnostics) user names in the query go as well.
_USER_QUERY_RE = re.compile(rf"(?i)([?&;](?:{_SECRET_KEYS}|user|username|login)=)[^&;#\s]*")
# A URL inside free text: up to whitespace or a quote.
_URL_IN_TEXT_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


def _split_userinfo(url: str) -> tuple[str, str, str] | None:
    """Return (prefix, userinfo, rest) for ``scheme://userinfo@rest`` or None.

    Passwords may contain ``/``, ``:`` or even an unencoded ``@``; the userinfo is
    taken up to the last ``@`` before any query or fragment so that none of the
    secret leaks into the host part.
    """
    match = SCHEME_RE.match(url)
    if match is None:
        return None
    prefix = match.group(0)
    rest = url[len(prefix) :]
    end = len(rest)
    for sep in ("?", "#"):
        pos = rest.find(sep)
        if pos != -1:
            end = min(end, pos)
    at = rest.rfind("@", 0, end)
    if at == -1:
        return None
    userinfo = rest[:at]
    # "host/path@x" (an @ in the path, no credentials) is not userinfo unless it
    # looks like "user:password".
    if "/" in userinfo and ":" not in userinfo.split("/", 1)[0]:
        return None
    return prefix, userinfo, rest[at + 1 :]


def _host_part(rest: str) -> tuple[str, str]:
    """Split ``host[:port]/path?query`` into (``host[:port]``, ``/path?query``)."""
    cut = len(rest)
    for sep in ("/", "?", "#", ";"):
        pos = rest.find(sep)
        if pos != -1:
            cut = min(cut, pos)
    return rest[:cut], rest[cut:]


def redact_url(
    url: object, *, hide_path: bool = False, keep_user: bool = True, mask: str = MASK
) -> str:
    """Return ``url`` safe to show: no password, token or secret query value.

    ``rtsp://user:secret@host/x`` becomes ``rtsp://user:***@host/x`` (with
    ``keep_user=False``: ``rtsp://***@host/x``); a bare userinfo (often a token)
    becomes ``***``; ``?token=abc`` becomes ``?token=***``. With ``hide_path``
    the path and query are replaced as a whole: ``rtsp://host:7447/***``.
    Non-URLs (device paths, file paths, entity ids) are returned unchanged.
    """
    if not isinstance(url, str):
        return str(url)
    match = SCHEME_RE.match(url)
    if match is None:
        return url
    prefix = match.group(0)
    parts = _split_userinfo(url)
    safe_user = ""
    rest = url[len(prefix) :]
    if parts is not None:
        _prefix, userinfo, rest = parts
        user, sep, _password = userinfo.partition(":")
        safe_user = f"{user}:{mask}@" if sep and keep_user else f"{mask}@"
    if hide_path:
        host, tail = _host_part(rest)
        return (
            f"{prefix}{safe_user}{host}/{mask}" if tail.strip("/") else f"{prefix}{safe_user}{host}"
        )
    pattern = _SECRET_QUERY_RE if keep_user else _USER_QUERY_RE
    return pattern.sub(lambda m: f"{m.group(1)}{mask}", f"{prefix}{safe_user}{rest}")


def redact_text(text: str, *, keep_user: bool = True, mask: str = MASK) -> str:
    """Redact every URL inside ``text`` (error messages, reasons) like :func:`redact_url`."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT_RE.sub(
        lambda m: redact_url(m.group(0), keep_user=keep_user, mask=mask), text
    )


def secrets_of(url: str, *, hide_path: bool = False) -> list[str]:
    """Return the secret substrings of ``url`` (password, userinfo, query secrets, path)."""
    secrets: list[str] = []
    parts = _split_userinfo(url)
    rest = url
    if parts is not None:
        userinfo = parts[1]
        rest = parts[2]
        secrets.append(userinfo)
        _user, sep, password = userinfo.partition(":")
        if sep and password:
            secrets.append(password)
    secrets.extend(m.group(0).split("=", 1)[1] for m in _SECRET_QUERY_RE.finditer(url))
    if hide_path and SCHEME_RE.match(url):
        if parts is None:
            rest = url[SCHEME_RE.match(url).end() :]  # type: ignore[union-attr]
        _host, tail = _host_part(rest)
        if tail.strip("/"):
            secrets.append(tail)
            path, _sep, query = tail.partition("?")
            secrets.extend(p for p in path.split("/") if p)
            secrets.extend(v.split("=", 1)[-1] for v in re.split(r"[&;]", query) if v)
    return [s for s in secrets if s]


def scrub(text: str, url: str, *, hide_path: bool = False) -> str:
    """Remove every trace of ``url``'s credentials (and, with ``hide_path``, its path) from ``text``."""
    text = text.replace(url, redact_url(url, hide_path=hide_path))
    for secret in sorted(secrets_of(url, hide_path=hide_path), key=len, reverse=True):
        # Only scrub reasonably specific strings; a 1-char password would turn
        # the whole message into stars.
        if len(secret) >= 3:
            text = text.replace(secret, MASK)
    return redact_text(text)


# Desk cameras of macOS and Windows (the desk agent): "avfoundation:0",
# "dshow:video=Integrated Camera" - FFmpeg's input format, a colon, its device name.
DESKTOP_CAMERA_FORMATS = ("avfoundation", "dshow")


def desktop_camera(target: str | int) -> tuple[str, str] | None:
    """Return (FFmpeg input format, device) of an AVFoundation/DirectShow source, else None."""
    if not isinstance(target, str) or ":" not in target:
        return None
    input_format, _, device = target.partition(":")
    if input_format not in DESKTOP_CAMERA_FORMATS or not device or "//" in device[:2]:
        return None
    return input_format, device


def parse_source(text: str | int) -> str | int:
    """Validate a user-entered source and return what a frame source opens.

    ``"0"`` (or ``0``) -> ``0`` (``/dev/video0``), ``"/dev/video0"``, an existing
    or absolute file path, or an ``rtsp(s)://`` / ``http(s)://`` URL with a host.
    Raises :class:`SourceError` with code ``invalid_url`` for anything else.
    """
    if isinstance(text, bool):
        raise SourceError("invalid_url", "Not a camera source")
    if isinstance(text, int):
        if 0 <= text < 64:
            return text
        raise SourceError("invalid_url", f"Device index out of range: {text}")
    if not isinstance(text, str):
        raise SourceError("invalid_url", "Not a camera source")
    value = text.strip()
    if not value:
        raise SourceError("invalid_url", "The source is empty")
    if len(value) > MAX_SOURCE_LENGTH:
        raise SourceError("invalid_url", f"The source is too long (over {MAX_SOURCE_LENGTH} chars)")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise SourceError("invalid_url", "The source contains control characters")
    if value.isdigit():
        index = int(value)
        if index < 64:
            return index
        raise SourceError("invalid_url", f"Device index out of range: {index}")
    if desktop_camera(value) is not None:
        return value
    match = SCHEME_RE.match(value)
    if match is not None:
        scheme = match.group(1).lower()
        if scheme == "file":
            path = value[len("file://") :]
            if path.startswith("/"):
                return path
            raise SourceError("invalid_url", "file:// URLs need an absolute path")
        if scheme not in NETWORK_SCHEMES:
            raise SourceError(
                "invalid_url",
                f"Unsupported URL scheme '{scheme}' (use rtsp, rtsps, http or https)",
            )
        try:
            parsed = urlsplit(value)
            host = parsed.hostname
            _port = parsed.port  # raises ValueError for a bad port
        except ValueError as err:
            raise SourceError("invalid_url", f"Malformed URL {redact_url(value)}") from err
        if not host or any(ch.isspace() for ch in value):
            raise SourceError("invalid_url", f"Malformed URL {redact_url(value)}")
        return value
    if "://" in value or value.startswith(("rtsp:", "http:", "https:")):
        raise SourceError("invalid_url", "Malformed URL")
    if value.startswith("/") or os.path.exists(value):
        return value
    raise SourceError(
        "invalid_url",
        "Not a device, file path or rtsp/http URL",
    )


def display_of(target: str | int, *, hide_path: bool = False) -> str:
    """Return a log-safe description of a parsed source."""
    if isinstance(target, int):
        return f"/dev/video{target}"
    return redact_url(target, hide_path=hide_path)


def kind_of(target: str | int) -> str:
    """Return ``device``, ``network`` or ``file`` for a parsed source."""
    if isinstance(target, int) or target.startswith("/dev/"):
        return "device"  # /dev/videoN, /dev/v4l/by-id/... (V4L2)
    if desktop_camera(target) is not None:
        return "device"  # avfoundation:N (macOS), dshow:video=NAME (Windows)
    if SCHEME_RE.match(target):
        return "network"
    return "file"


def device_path(target: str | int) -> str:
    """Path of a V4L2 device source (``0`` -> ``/dev/video0``)."""
    return f"/dev/video{target}" if isinstance(target, int) else str(target)
