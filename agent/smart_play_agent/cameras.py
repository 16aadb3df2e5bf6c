"""The cameras of this computer (``--list-cameras``) and the default one.

Linux: V4L2 devices (``/dev/videoN``, names from sysfs). macOS and Windows: the
devices FFmpeg's AVFoundation / DirectShow input lists (through PyAV); those two
are written to FFmpeg's documented ``list_devices`` option and were not run here
(only Linux was available when this was written).
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys


def default_camera() -> str:
    """Return the source string of this computer's first camera."""
    if sys.platform == "darwin":
        return "avfoundation:0"
    if sys.platform == "win32":
        names = _ffmpeg_devices("dshow", "dummy")
        return f"dshow:video={names[0]}" if names else "dshow:video=0"
    return "0"  # /dev/video0


def camera_source(text: str) -> str:
    """Return what to open for a camera given as on the command line.

    A plain index means this platform's camera of that number: ``/dev/videoN`` on
    Linux, ``avfoundation:N`` on macOS, the N-th DirectShow camera on Windows.
    Anything else (paths, URLs, ``avfoundation:``/``dshow:`` forms) is kept.
    """
    if not text.strip().isdigit():
        return text
    index = int(text)
    if sys.platform == "darwin":
        return f"avfoundation:{index}"
    if sys.platform == "win32":
        names = _ffmpeg_devices("dshow", "dummy")
        return f"dshow:video={names[index]}" if index < len(names) else f"dshow:video={index}"
    return text


def linux_cameras() -> list[tuple[str, str]]:
    """Return (device, name) of the V4L2 capture devices."""
    found = []
    for path in sorted(glob.glob("/dev/video*"), key=lambda p: (len(p), p)):
        name_file = f"/sys/class/video4linux/{os.path.basename(path)}/name"
        try:
            with open(name_file, encoding="utf-8") as handle:
                name = handle.read().strip()
        except OSError:
            name = ""
        found.append((path, name))
    return found


def _ffmpeg_devices(input_format: str, dummy: str) -> list[str]:
    """Device names FFmpeg logs for ``-f <format> -list_devices true -i <dummy>``."""
    import av
    import av.logging

    lines: list[str] = []
    with av.logging.Capture() as logs:
        # Listing always "fails" to open; the devices are in the log.
        with contextlib.suppress(av.FFmpegError, OSError, ValueError):
            av.open(dummy, format=input_format, options={"list_devices": "true"})
        lines = [str(entry[2]) for entry in logs]
    names = []
    for line in lines:
        if "audio devices" in line.lower():
            break  # AVFoundation lists video devices first, then audio
        if '"' in line and "(audio)" not in line:  # DirectShow: "Name" (video)
            names.append(line.split('"')[1])
        elif line.strip().startswith("[") and "]" in line.strip()[1:]:
            names.append(line.strip().split("]", 1)[1].strip())  # AVFoundation: [0] Name
    return names


def print_cameras() -> int:
    """Print the cameras and how to pass them to the agent."""
    if sys.platform == "darwin":
        cameras = [
            (f"avfoundation:{i}", n) for i, n in enumerate(_ffmpeg_devices("avfoundation", ""))
        ]
    elif sys.platform == "win32":
        cameras = [(f"dshow:video={n}", n) for n in _ffmpeg_devices("dshow", "dummy")]
    else:
        cameras = linux_cameras()
    if not cameras:
        sys.stderr.write("no cameras found\n")
        return 1
    for source, name in cameras:
        sys.stdout.write(f"{source}\t{name}\n")
    return 0
