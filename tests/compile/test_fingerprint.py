"""Same spec, same bytes, same fingerprint: across runs, processes and machines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from batchspec.compile import compile_spec
from batchspec.validate import validate_paths
from tests.compile.strategies import reversed_keys, valid_spec
from tests.conftest import REPO, SPECS

# Changing one of these values means every job submitted with an older
# batchspec would be seen as changed (and replaced). Only change them on purpose.
GOLDEN_FINGERPRINTS = {
    "census_batch_predict": "57549016ab5273b4716e9db372b9532c5baa43db78fde98301606f5d7e068775",
}

_PRINT_FINGERPRINTS = """
import json, sys
from batchspec.compile import compile_spec
from batchspec.validate import validate_paths
result = validate_paths([sys.argv[1]])
print(json.dumps({s.name: compile_spec(s.spec, env={}).fingerprint for s in result.specs}))
"""


def fingerprints() -> dict[str, str]:
    result = validate_paths([str(SPECS)])
    return {s.name: compile_spec(s.spec, env={}).fingerprint for s in result.specs}


def test_golden_fingerprint_of_the_seed_001_example() -> None:
    found = fingerprints()
    for name, fp in GOLDEN_FINGERPRINTS.items():
        assert found[name] == fp


def test_insertion_order_does_not_matter() -> None:
    from ruamel.yaml import YAML

    for path in sorted(SPECS.glob("*.yaml")):
        for data in YAML(typ="safe").load_all(path.read_text()):
            a = compile_spec(valid_spec(data), env={})
            b = compile_spec(valid_spec(reversed_keys(data)), env={})
            assert a.fingerprint == b.fingerprint
            assert json.dumps(a.body, sort_keys=True) == json.dumps(b.body, sort_keys=True)


@pytest.mark.slow
def test_identical_across_processes_hash_seeds_and_working_directories(tmp_path: Path) -> None:
    """Hash randomisation and the current directory must not leak into bodies
    (relative local paths stay relative)."""
    expected = fingerprints()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATCHSPEC_", "GOOGLE_CLOUD"))}
    env["PYTHONPATH"] = str(REPO)
    for seed, cwd in (("0", REPO), ("12345", tmp_path)):
        out = subprocess.run(
            [sys.executable, "-c", _PRINT_FINGERPRINTS, str(SPECS)],
            env={**env, "PYTHONHASHSEED": seed},
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert json.loads(out.stdout) == expected


def test_local_paths_stay_relative_in_bodies() -> None:
    result = validate_paths([str(SPECS / "review_sentiment.yaml")])
    body = compile_spec(result.specs[0].spec, env={}).body
    assert body["spec"]["input"]["paths"] == ["../data/reviews/reviews-*"]
    assert body["spec"]["output"]["path"] == "../out/review_sentiment"


def test_defaults_written_out_do_not_change_the_fingerprint() -> None:
    from tests.compile.conftest import make_spec

    plain = compile_spec(make_spec("mlengine"), env={})
    explicit = compile_spec(
        make_spec(
            "mlengine",
            {"resources": {"maxWorkerCount": 10, "batchSize": 64}, "output": {"format": "JSONL"}},
        ),
        env={},
    )
    assert plain.fingerprint == explicit.fingerprint


def test_policy_and_description_are_not_part_of_the_job() -> None:
    from tests.compile.conftest import make_spec

    plain = compile_spec(make_spec("vertex"), env={})
    tuned = compile_spec(
        make_spec("vertex", {"policy": {"maxRetries": 3, "deadline": "2h"}}), env={}
    )
    assert plain.fingerprint == tuned.fingerprint
