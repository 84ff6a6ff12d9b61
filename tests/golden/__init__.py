"""Tests for the golden stage."""
