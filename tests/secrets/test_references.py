"""`${env:NAME}` references: syntax, where they may stand, resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchspec import secrets
from tests.validate.helpers import check, document


def diagnostics(tmp_path: Path, target: str = "vertex", **patch: object) -> list[tuple[str, str]]:
    return [(d.code, d.pointer) for d in check(tmp_path, document(target, **patch))]


def test_references_where_secrets_may_stand_are_valid(tmp_path: Path) -> None:
    params = {
        "apiKey": "${env:VENDOR_KEY}",
        "headers": {"x": "Bearer ${env:T}"},
        "lit": "$${env:X}",
    }
    assert diagnostics(tmp_path, modelParameters=params) == []
    local = {"local": {"runner": "http", "command": ["srv"], "env": {"TOKEN": "${env:TOKEN}"}}}
    assert diagnostics(tmp_path, "local", model=local) == []


@pytest.mark.parametrize(
    "value", ["${env:}", "${env:1ST}", "${env:A-B}", "${env:OPEN", "x ${env:ok} ${env:not ok}"]
)
def test_malformed_references(tmp_path: Path, value: str) -> None:
    assert diagnostics(tmp_path, modelParameters={"k": value}) == [
        ("BS285", "spec.modelParameters.k")
    ]


def test_references_out_of_place(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path, **{"input.paths": ["gs://in-bucket/${env:DAY}/*"], "serviceAccount": "${env:SA}"}
    )
    assert ("BS286", "spec.input.paths[0]") in found
    assert ("BS286", "spec.serviceAccount") in found


def test_resolve_replaces_every_reference_and_unescapes() -> None:
    value = {"a": "Bearer ${env:T}", "b": ["${env:U}${env:T}"], "c": "$${env:T}", "d": 3}
    env = {"T": "t0k", "U": "u"}
    assert secrets.resolve(value, env) == {
        "a": "Bearer t0k",
        "b": ["ut0k"],
        "c": "${env:T}",
        "d": 3,
    }


def test_resolve_names_every_missing_variable_and_where() -> None:
    with pytest.raises(secrets.MissingSecretError) as info:
        secrets.resolve({"spec": {"env": {"A": "${env:ONE}", "B": "${env:TWO}"}}}, {})
    assert info.value.message == (
        "environment variable(s) not set: ONE (at spec.env.A), TWO (at spec.env.B)"
    )


def test_ray_resolves_only_its_env_vars_where_it_is_submitted() -> None:
    body = {
        "spec": {
            "model": {"local": {"env": {"A": "${env:ON_CLUSTER}"}}},
            "ray": {"runtimeEnv": {"env_vars": {"B": "${env:HERE}"}}},
        }
    }
    here = secrets.resolved_where_submitted("ray", body)
    assert [n for n, _ in secrets.missing(here, {})] == ["HERE"]
    assert [n for n, _ in secrets.missing(secrets.resolved_where_submitted("local", body), {})] == [
        "ON_CLUSTER",
        "HERE",
    ]
