"""Tests for Smart Play."""
