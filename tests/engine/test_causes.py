"""Naming a failed model program's cause from its exit and log (the rules
of `batchspec.engine.runners.causes`; the runners' tests provoke each for real)."""

from __future__ import annotations

from batchspec.engine.runners.causes import Exit, diagnose

MIB = 2**20


def test_exit_137_near_the_limit_is_memory_in_an_image() -> None:
    run = Exit("the container", 137, "", 512 * MIB, 500 * MIB, in_image=True)
    assert diagnose(run).code == "BS506"


def test_sigkill_far_below_the_limit_is_not_called_memory() -> None:
    run = Exit("the command", -9, "", 512 * MIB, 40 * MIB)
    cause = diagnose(run)
    assert cause.code == "BS511" and "SIGKILL" in cause.message


def test_a_missing_library_in_an_image_says_to_install_it_in_the_image() -> None:
    log = "OSError: libgomp.so.1: cannot open shared object file: No such file or directory"
    cause = diagnose(Exit("the container", 1, log, in_image=True))
    assert cause.code == "BS505" and "libgomp.so.1" in cause.message
    assert "in the image" in cause.hint


def test_a_key_error_on_another_field_is_not_the_key_field() -> None:
    cause = diagnose(Exit("the command", 1, "KeyError: 'price'", key_field="id"))
    assert cause.code == "BS511"


def test_exit_137_of_an_image_under_a_limit_is_memory_without_a_peak() -> None:
    run = Exit("the container", 137, "", 512 * MIB, None, in_image=True)
    cause = diagnose(run)
    assert cause.code == "BS506" and "exit 137" in cause.message
