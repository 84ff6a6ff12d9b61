"""Real processes, real SIGKILL, at a run of a scheduled spec.

`batchspec apply --now` starts one run of a nightly spec against the
file-backed double (not idempotent: exactly-once rests on batchspec); the
double kills its own process before the create, or right after it (the job
exists, batchspec never heard). A restarted controller pass must leave
exactly one job for that run key, recorded as the run's job.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from batchspec.state import Phase, StateStore
from batchspec.state.records import RunOutcome
from batchspec.testing.specs import local_job, write_specs
from tests.reconcile.test_kill9 import batchspec  # the double, not idempotent

pytestmark = pytest.mark.slow

NIGHTLY = {"cron": "0 2 * * *", "timeZone": "Europe/Berlin"}


@pytest.mark.parametrize("kill_at", ["submit:1", "submit.created:1"])
def test_killed_between_intent_and_submit_then_restart_one_job_per_run(
    tmp_path: Path, kill_at: str
) -> None:
    doc = local_job("nightly", schedule=NIGHTLY, output={"path": "out/nightly/{run.id}"})
    write_specs(tmp_path / "specs", [doc])
    killed = batchspec(tmp_path, "apply", "specs", "--now", FAKE_BACKEND_KILL_AT=kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with StateStore.open(tmp_path / "state.db") as store:
        [run] = store.runs("nightly")
        assert run.job is not None and run.job.in_doubt  # the intent, recorded first
        key = run.run_key
    again = batchspec(tmp_path, "reconcile", "specs", "--once")
    assert again.returncode == 0, again.stdout + again.stderr
    service = json.loads((tmp_path / "service.json").read_text())
    assert service["creates"] == 1
    [job] = service["jobs"].values()
    assert job["labels"]["batchspec-run"] == key.lower()
    with StateStore.open(tmp_path / "state.db") as store:
        [run] = store.runs("nightly")
        assert run.outcome is RunOutcome.RUN and run.run_key == key
        assert run.job is not None and run.job.phase is Phase.SUBMITTED
        assert run.job.remote_name in service["jobs"]
    assert batchspec(tmp_path, "reconcile", "specs", "--once").returncode == 0
    assert json.loads((tmp_path / "service.json").read_text())["creates"] == 1
