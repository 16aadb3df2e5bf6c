"""``python -m smart_play_agent``: the same as the ``smart-play-agent`` command."""

import sys

from .cli import main

sys.exit(main())
