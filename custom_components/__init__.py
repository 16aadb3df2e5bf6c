"""Home Assistant custom integrations in this repository (lets tests import them)."""
