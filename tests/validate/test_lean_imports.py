"""The rules and validate's support modules import no pydantic, and the
behaviour they call on spec objects is the same on the pydantic models as on
plain objects (validate's schema-only lane runs the rules over such objects,
because pydantic's import alone costs more than `validate` may take to start)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from batchspec.model import behaviour, limits, modelspec, spec
from batchspec.model.base import Duration

LIGHT = (
    "batchspec.validate.rules",
    "batchspec.validate.modeldocs",
    "batchspec.validate.modelrefs",
    "batchspec.validate.references",
    "batchspec.validate.targets",
    "batchspec.validate.machines",
    "batchspec.validate.report",
    "batchspec.diagnostics",
    "batchspec.load.source",
    "batchspec.load.positions",
    "batchspec.model.limits",
    "batchspec.model.behaviour",
    "batchspec.model.jobs",
)


def test_rules_and_support_modules_import_no_pydantic() -> None:
    probe = f"import {', '.join(LIGHT)}; import sys; print('pydantic' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


def test_package_re_exports_still_resolve() -> None:
    import batchspec.model
    import batchspec.validate

    assert batchspec.model.BatchPredictionJobSpec is spec.BatchPredictionJobSpec
    assert batchspec.model.KIND == spec.KIND == limits.KIND
    for name in batchspec.model.__all__ + batchspec.validate.__all__:
        module = batchspec.model if name in batchspec.model.__all__ else batchspec.validate
        assert getattr(module, name) is not None
    with pytest.raises(AttributeError):
        _ = batchspec.model.nothing_here  # type: ignore[attr-defined]


def test_each_model_inherits_its_behaviour() -> None:
    for name, mixin in behaviour.BEHAVIOURS.items():
        model = getattr(spec, name, None) or getattr(modelspec, name)
        assert issubclass(model, mixin), name
        assert mixin.__name__ == f"{name}Behaviour"


def _plain(mixin: type, **fields: Any) -> Any:
    """An object that is not a pydantic model, offering `fields` and `mixin`'s behaviour."""
    cls = type("Plain", (mixin,), {"__slots__": tuple(fields)})
    obj = cls()
    for key, value in fields.items():
        setattr(obj, key, value)
    return obj


@pytest.mark.parametrize("deadline", [None, "6h", "1h30m", "30d"])
def test_behaviour_on_plain_objects_matches_the_models(deadline: str | None) -> None:
    policy = spec.Policy.model_validate({"deadline": deadline})
    assert _plain(behaviour.PolicyBehaviour, deadline=deadline).deadline_seconds == (
        policy.deadline_seconds
    )
    schedule = spec.Schedule.model_validate({"cron": "@daily", "startingDeadline": deadline})
    plain_schedule = _plain(behaviour.ScheduleBehaviour, starting_deadline=deadline)
    assert plain_schedule.starting_deadline_seconds == schedule.starting_deadline_seconds
    ref = spec.ModelRef.model_validate({"uri": "gs://b/m", "name": "m"})
    plain_ref = _plain(
        behaviour.ModelRefBehaviour,
        **{k: getattr(ref, k) for k in ("name", "uri", "resource", "publisher", "local", "ref")},
    )
    assert plain_ref.ways() == ref.ways() == ["name", "uri"]
    for ports in (None, [9000, 9001]):
        container = modelspec.ModelContainer.model_validate({"imageUri": "i", "ports": ports})
        assert _plain(behaviour.ModelContainerBehaviour, ports=ports).port == container.port
    named = _plain(behaviour.BatchPredictionJobSpecBehaviour, metadata=_plain(object, name="j"))
    assert named.name == "j"
    recurs = _plain(behaviour.JobSpecBehaviour, schedule=None, trigger="inputs")
    assert recurs.recurring


@pytest.mark.parametrize("text", ["30d", "720h", "31d", "1d" * 16, "1s" * 17, "99999999999d"])
def test_duration_bounds_are_the_models(text: str) -> None:
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(Duration).validate_python(text)
        accepted = True
    except ValidationError:
        accepted = False
    assert limits.duration_in_bounds(text) is accepted
