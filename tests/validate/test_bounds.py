"""Every number and duration in a spec is bounded at validation.

An unbounded value used to pass validation and fail later: a deadline of
`99999999999999999999d` raised OverflowError in every reconcile pass.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batchspec.model.spec import MAX_DEADLINE_SECONDS, Policy
from batchspec.validate import validate_paths
from tests.validate.helpers import check, document

TOO_BIG: list[tuple[str, str, Any]] = [
    ("vertex", "policy.deadline", "99999999999999999999d"),
    ("vertex", "policy.deadline", "31d"),
    ("vertex", "policy.deadline", "1s" * 40),
    ("vertex", "policy.deadline", "9" * 5000 + "s"),
    ("vertex", "policy.maxRetries", 101),
    ("vertex", "policy.maxRetries", 10**30),
    ("vertex", "policy.retryBackoffSeconds", 7 * 86_400 + 1),
    ("vertex", "policy.maxFailedInstances", 2**63),
    ("vertex", "resources.replicaCount", 2**31),
    ("vertex", "resources.maxReplicaCount", 2**31),
    ("vertex", "resources.accelerator", {"type": "NVIDIA_TESLA_T4", "count": 2**31}),
    ("mlengine", "resources.maxWorkerCount", 2**63),
    ("mlengine", "resources.batchSize", 10**20),
    ("local", "model.local", {"runner": "command", "command": ["x"], "timeoutSeconds": 1e12}),
    (
        "local",
        "model.local",
        {"runner": "http", "command": ["x"], "startupTimeoutSeconds": 7201.0},
    ),
    ("local", "model.local", {"runner": "http", "command": ["x"], "requestTimeoutSeconds": 1e9}),
]


@pytest.mark.parametrize(("target", "key", "value"), TOO_BIG)
def test_value_past_its_bound_is_out_of_range(
    tmp_path: Path, target: str, key: str, value: Any
) -> None:
    found = check(tmp_path, document(target, **{key: value}))
    assert "BS105" in [d.code for d in found], found
    [d] = [d for d in found if d.code == "BS105"]
    assert d.line is not None and d.message.startswith("must be")


def test_deadline_bound_message(tmp_path: Path) -> None:
    [d] = check(tmp_path, document("vertex", **{"policy.deadline": "99999999999999999999d"}))
    assert (d.code, d.message, d.pointer) == (
        "BS105",
        "must be at most 30d",
        "spec.policy.deadline",
    )


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
@pytest.mark.parametrize("key", ["policy.retryBackoffSeconds", "policy.maxErrorFraction"])
def test_infinite_and_nan_numbers_are_refused(tmp_path: Path, key: str, value: float) -> None:
    found = check(tmp_path, document("vertex", **{key: value}))
    assert found and all(d.is_error for d in found)


def test_ray_cpus_per_actor_bounded(tmp_path: Path) -> None:
    for value in (0.00001, 1e6, float("inf")):
        assert check(tmp_path, document("local", ray={"cpusPerActor": value}))


def test_largest_allowed_values_pass_and_stay_usable(tmp_path: Path) -> None:
    doc = document(
        "vertex",
        **{
            "policy.deadline": "30d",
            "policy.maxRetries": 100,
            "policy.retryBackoffSeconds": 7 * 86_400,
            "policy.maxFailedInstances": 2**63 - 1,
        },
    )
    assert not [d for d in check(tmp_path, doc) if d.is_error]
    policy = Policy.model_validate(doc["spec"]["policy"])
    assert policy.deadline_seconds == MAX_DEADLINE_SECONDS
    # what the controller does with it cannot overflow
    assert datetime.now(UTC) + timedelta(seconds=policy.deadline_seconds) > datetime.now(UTC)


def test_deadline_text_reaching_the_controller_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    from tests.validate.helpers import dump

    path.write_text(dump(document("vertex", **{"policy.deadline": "720h"})))
    [loaded] = validate_paths([str(path)]).specs
    assert loaded.spec.spec.policy.deadline_seconds == 720 * 3600
