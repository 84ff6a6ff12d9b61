"""Progress as users see it: workers report it at a pace that does not grow
with the machine's slowness, and the status record is rewritten when its
counts move (at most every PROGRESS_EVERY s), or as a heartbeat when they
do not. Clocks are faked: nothing here sleeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from batchspec.engine import jobrun
from batchspec.engine.jobdir import JobDir
from batchspec.engine.jobhome import job_record
from batchspec.engine.messages import Progress
from batchspec.engine.pool import PoolHost, PoolWork
from batchspec.engine.supervisor import supervise
from batchspec.engine.worker import PROGRESS_BATCHES, PROGRESS_CAP, PROGRESS_EVERY, Reporter
from batchspec.model.enums import JobState
from tests.engine.conftest import Workspace, python_model, spec_doc
from tests.engine.test_pool import InlinePool


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


class Pipe:
    """What a worker's message pipe received."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, Progress]] = []

    def send(self, message: Progress) -> None:
        self.sent.append((self.clock.now, message))


def _report(seconds_per_batch: float, batches: int) -> list[tuple[float, Progress]]:
    """The messages of a shard of `batches` batches of 64, each taking
    `seconds_per_batch`."""
    clock = Clock()
    pipe = Pipe(clock)
    report = Reporter(pipe, 3, clock=clock.monotonic)
    start = clock.now
    for k in range(1, batches + 1):
        clock.now = start + k * seconds_per_batch
        report(64, 0)
    return pipe.sent


@pytest.mark.parametrize("seconds_per_batch", [0.001, 0.02, 0.3])
def test_progress_messages_are_bounded_by_batches_and_by_time(seconds_per_batch: float) -> None:
    batches = 2_000
    sent = _report(seconds_per_batch, batches)
    elapsed = batches * seconds_per_batch
    assert sent, "progress must move during a shard"
    # each message waited for PROGRESS_BATCHES batches or PROGRESS_CAP seconds
    assert len(sent) <= batches / PROGRESS_BATCHES + elapsed / PROGRESS_CAP
    assert len(sent) <= elapsed / PROGRESS_EVERY
    last = 100.0
    for when, message in sent:
        gap = when - last
        assert message.shard == 3 and message.failed == 0
        assert gap >= PROGRESS_EVERY
        assert message.done >= PROGRESS_BATCHES * 64 or gap >= PROGRESS_CAP
        last = when
    assert sum(m.done for _, m in sent) <= batches * 64


def test_a_slow_model_still_reports_within_the_cap() -> None:
    sent = _report(0.3, 100)  # a batch every 0.3 s: fewer than PROGRESS_BATCHES in the cap
    gaps = [b[0] - a[0] for a, b in zip([(100.0, None), *sent], sent, strict=False)]
    assert gaps and max(gaps) < PROGRESS_CAP + 0.3
    assert [m.done for _, m in sent] == [64 * round(g / 0.3) for g in gaps]


def test_an_unchanged_status_is_rewritten_only_as_a_heartbeat(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(jobrun, "time", clock)
    writes: list[tuple[float, int]] = []
    update = JobDir.update_status

    def spy(self: JobDir, *, durable: bool = True, **changes: Any) -> dict[str, Any]:
        if not durable:
            writes.append((clock.now - 100.0, changes["completedCount"]))
        return update(self, durable=durable, **changes)

    monkeypatch.setattr(JobDir, "update_status", spy)

    class Ticking(InlinePool):
        """Ticks every 0.1 s for 20 s; the first shard moves only in the first 2 s."""

        def run(self, work: PoolWork, host: PoolHost) -> None:
            host.shard_started(0)
            for step in range(1, 201):
                clock.now = 100.0 + step / 10
                if step <= 20:
                    host.shard_progress(0, 1, 0)
                host.tick()
            super().run(work, host)

    ws.jsonl("in/part-0.jsonl", [{"id": i, "n": i} for i in range(10)])
    doc = spec_doc(
        model=python_model("tests.engine.helpers.models:slow"),
        input={"format": "JSONL", "paths": ["in/part-*"], "keyField": "id"},
    )
    jd, _ = ws.backend.folders.ensure(job_record(ws.compile(doc)))
    assert supervise(Path(jd.path), pool=Ticking()) is JobState.SUCCEEDED
    moving = [(t, n) for t, n in writes if t <= 2.0]
    assert moving == [(k * PROGRESS_EVERY, round(k * PROGRESS_EVERY * 10)) for k in (1, 2, 3, 4)]
    beats = [t for t, n in writes if 2.0 < t < 20.0]
    assert beats == [2.0 + k * jobrun.HEARTBEAT_EVERY for k in range(1, len(beats) + 1)]
    assert len(beats) == int(18.0 // jobrun.HEARTBEAT_EVERY)
    assert writes[-1] == (20.0, 10)  # the published shard moved the counts: written at once
