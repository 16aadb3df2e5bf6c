"""Smart Play desk agent: the webcam of the computer you work at, analysed there.

The agent runs the integration's own vision engine (``smart_play_agent.vision`` is
``custom_components/smart_play/vision`` of this repository, mapped by the package
build; there is one copy of the code) on a camera of the desk computer and reports
occupancy to a Smart Play entry in Home Assistant through a webhook. Frames never
leave the computer, except a small annotated picture while someone watches the
entry's tracking view in Home Assistant. Home Assistant is never imported.
"""

__version__ = "0.1.0"
