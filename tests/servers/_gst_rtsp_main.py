"""gst-rtsp-server process serving one H.264 MP4 on 127.0.0.1 (run by Debian's python3).

Usage: python3 _gst_rtsp_main.py PORT MOUNT CLIP.mp4

Prints ``READY <port>`` on stdout once the server listens. Every client gets its
own pipeline (not shared) that starts at the beginning of the file; the file is
played at real-time pace. This script runs under the system interpreter (it needs
PyGObject and GStreamer from Debian), so it uses nothing from the venv.
"""

from __future__ import annotations

import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    """Start the server and run the GLib main loop until SIGTERM/SIGINT."""
    port, mount, clip = sys.argv[1], sys.argv[2], sys.argv[3]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    location = clip.replace("\\", "\\\\").replace('"', '\\"')
    factory.set_launch(
        f'( filesrc location="{location}" ! qtdemux ! h264parse config-interval=-1 '
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(False)
    factory.set_eos_shutdown(False)
    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        print("FAILED attach", flush=True)
        return 1
    print(f"READY {server.get_bound_port()}", flush=True)
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    parent = os.getppid()

    def orphaned() -> bool:
        """Quit when the test process that started us is gone (no orphaned servers)."""
        if os.getppid() != parent:
            loop.quit()
            return False
        return True

    GLib.timeout_add(500, orphaned)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
