"""Real loopback servers used by the vision and end-to-end tests.

* :mod:`tests.servers.rtsp_server` - :class:`RtspServer`, GStreamer's
  gst-rtsp-server serving a clip (looped) on 127.0.0.1.
* :mod:`tests.servers.mjpeg_server` - :class:`MjpegServer`, an HTTP
  ``multipart/x-mixed-replace`` MJPEG server on 127.0.0.1.
* :mod:`tests.servers.clips` - small helpers to make test clips with PyAV.
"""
