"""Unreachable storage fails fast, in one line, and a stop ends the wait.

Against a server that accepts connections and never answers, gcsfs on its
own waits forever (no request timeout) and retries six times; against a
refused port it retries with backoff for about a minute. No external network:
both endpoints are on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from batchspec.io import guard, storage
from batchspec.io.guard import StorageInterruptedError, StorageUnreachableError
from tests.io.servers import SilentServer, refused_endpoint

pytest.importorskip("gcsfs")


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(guard.TIMEOUT_ENV, "0.5")
    monkeypatch.setenv(guard.RETRIES_ENV, "2")
    guard.forget_failures()
    yield
    guard.forget_failures()


@pytest.fixture
def silent(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentServer]:
    with SilentServer() as server:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.endpoint)
        yield server


def test_a_silent_server_gives_one_line_naming_the_bucket(silent: SilentServer) -> None:
    with pytest.raises(StorageUnreachableError) as info:
        storage.list_files("gs://acme-out/results/")
    message = info.value.message
    assert message.startswith("gs://acme-out: cannot list acme-out/results")
    assert f"{silent.endpoint} did not answer within 0.5 s" in message
    assert "\n" not in message and "Traceback" not in message
    assert info.value.hint is not None and guard.TIMEOUT_ENV in info.value.hint
    assert silent.connections >= 1


def test_a_refused_port_gives_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = refused_endpoint()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", endpoint)
    with pytest.raises(StorageUnreachableError) as info:
        storage.open_binary("gs://acme-out/results/batchspec-manifest.json")
    assert info.value.message.startswith("gs://acme-out: cannot open batchspec-manifest.json")
    assert f"connection refused by {endpoint} (2 attempt(s))" in info.value.message


def test_an_unreachable_endpoint_is_not_waited_for_again_at_once(silent: SilentServer) -> None:
    with pytest.raises(StorageUnreachableError):
        storage.file_size("gs://acme-out/a")
    before = silent.connections
    with pytest.raises(StorageUnreachableError, match=r"not retried for 30 s"):
        storage.entry("gs://acme-out/b")
    assert silent.connections == before, "the second call must not touch the network"


def test_a_stop_event_ends_the_wait(silent: SilentServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Limits far beyond the test: only the stop can end this call.
    monkeypatch.setenv(guard.TIMEOUT_ENV, "3600")
    stop = threading.Event()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            storage.list_files("gs://acme-out/results/")
        except BaseException as exc:
            errors.append(exc)

    with guard.stop_on(stop):
        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        assert silent.accepted.wait(120), "the call never reached the server"
        stop.set()
        worker.join(120)
    assert not worker.is_alive(), "a set stop event did not end the wait"
    assert len(errors) == 1 and isinstance(errors[0], StorageInterruptedError)
    assert "gs://acme-out: stopped while waiting to list" in str(errors[0])


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(guard.TIMEOUT_ENV)
    monkeypatch.delenv(guard.RETRIES_ENV)
    assert guard.limits() == guard.Limits(timeout=20.0, attempts=3)
    monkeypatch.setenv(guard.TIMEOUT_ENV, "7.5")
    monkeypatch.setenv(guard.RETRIES_ENV, "1")
    bounds = guard.limits()
    assert (bounds.timeout, bounds.attempts, bounds.backoff) == (7.5, 1, 0.0)
    for bad in ("soon", "-1", "nan", "0"):
        monkeypatch.setenv(guard.TIMEOUT_ENV, bad)
        with pytest.raises(storage.StorageError, match=guard.TIMEOUT_ENV):
            guard.limits()


def test_gcsfs_requests_carry_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", refused_endpoint())
    fs, _ = storage.filesystem("gs://acme-out/x")
    timeout = fs.requests_timeout
    assert (timeout.connect, timeout.sock_read, timeout.total) == (0.5, 0.5, None)
    from batchspec.io.gcs import bounded_class

    assert type(fs) is bounded_class(2)
