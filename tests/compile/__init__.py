"""Tests for the compile stage."""
