"""Vision tests."""
