"""Tests for the migrate stage."""
