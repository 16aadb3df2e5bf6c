"""Smart Play vision engine: camera frames in, occupancy decisions out.

This package never imports Home Assistant, so it can be run, tested and
benchmarked on its own (``python -m custom_components.smart_play.vision``).
"""
