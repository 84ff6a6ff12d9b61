"""The BatchPredictionJob dynamic resource: a job run as a Pulumi resource.

pulumi-gcp has no batch prediction job resource, so this is ours. Each
method is a thin shell around `batchspec.pulumi.runs`:

| Pulumi   | here                                                                   |
|----------|------------------------------------------------------------------------|
| check    | inputs well-formed, the spec file still valid and still this revision  |
| diff     | fingerprint (or target, name, project, region) changed: replace, delete first |
| create   | `ensure_run`: the controller's plan + executor under the writer lease  |
| read     | `observe_run`: the job's state now, recorded in state (`pulumi refresh`) |
| update   | only where the run is recorded moved (state file, home, lock timeout)  |
| delete   | `stop_run`: cancel a running job, leave a finished one                 |

Replacement deletes the old job first (`delete_before_replace`): jobs are
immutable, and the old run must be cancelled and retired from the spec
name before the new revision is submitted, exactly as `batchspec apply`
orders a replace.

The provider object is pickled into Pulumi state by dill, so it holds no
clients, connections or settings: everything it needs arrives in the
resource's properties, and every client is made inside a method. batchspec's
own errors leave as one line ("message (hint: ...)"), raised from a fresh
exception so Pulumi's report is not a page of batchspec internals; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi import dynamic

from batchspec.errors import BatchspecError
from batchspec.pulumi.props import (
    INPUT_KEYS,
    OPERATIONAL,
    OUTPUT_KEYS,
    REPLACING,
    JobProps,
    check_inputs,
    load_job,
    outputs,
)
from batchspec.pulumi.runs import (
    RunError,
    describe_error,
    ensure_run,
    move_run,
    observe_run,
    stop_run,
)

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi.runtime.rpc.UNKNOWN


class ProviderError(Exception):
    """What Pulumi shows when an operation fails: one line, no batchspec traceback."""


def _known(inputs: Mapping[str, Any]) -> bool:
    return all(inputs.get(k) != UNKNOWN for k in INPUT_KEYS)


class BatchPredictionJobProvider(dynamic.ResourceProvider):
    """CRUD for one batch prediction job run; see the module docstring."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        """Validate the inputs and the spec they point at (no backend call)."""
        problems = check_inputs(news, unknown=UNKNOWN)
        failures = [dynamic.CheckFailure(k, reason) for k, reason in problems]
        if failures or not _known(news):
            return dynamic.CheckResult(news, failures)
        try:
            load_job(JobProps.from_inputs(news))
        except RunError as exc:
            key = "fingerprint" if "changed since" in exc.message else "specFile"
            failures.append(dynamic.CheckFailure(key, describe_error(exc)))
        return dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        """Replace (old job first) when the revision or its place changes."""
        changed = [k for k in INPUT_KEYS if olds.get(k) != news.get(k)]
        replaces = [k for k in changed if k in REPLACING]
        return dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=["name"],
            delete_before_replace=True,
        )

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        """Submit the revision through the controller's exactly-once path, or adopt it."""
        try:
            job_props = JobProps.from_inputs(props)
            job = load_job(job_props)
            view = ensure_run(job, job_props.where)
        except BatchspecError as exc:  # reported to Pulumi as one line
            error = _failure("create", props, exc)
        else:
            return dynamic.CreateResult(view.remote_name, outputs(job_props, view))
        raise error

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        """The job's state now, for `pulumi refresh` (drift shows as changed outputs).

        A job the service no longer has that had not ended is reported gone
        (Pulumi drops it and the next `up` runs the revision again, as
        `batchspec apply` would); a finished one stays, marked deletedOutside,
        since its results were produced."""
        try:
            job_props = JobProps.from_inputs(props)
            view = observe_run(str(props.get("backend") or job_props.target), id_, job_props.where)
        except BatchspecError as exc:
            error = _failure("read", props, exc)
        else:
            outs = outputs(job_props, view)
            outs["adopted"] = bool(props.get("adopted"))
            if view.missing:
                # The last state anyone saw: batchspec's record, else Pulumi's own.
                last = view.state if _ended(view.state) else props.get("state")
                outs["state"] = last
                if not _ended(last):
                    return dynamic.ReadResult("", outs)
            return dynamic.ReadResult(id_, outs)
        raise error

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        """Nothing about a job is mutable; only where it is recorded can move.

        `diff` sends every request-changing input to replace, so an update
        carries operational or informational changes only; the job must still
        be found where the new inputs point."""
        try:
            job_props = JobProps.from_inputs(news)
            moved = any(olds.get(k) != news.get(k) for k in OPERATIONAL)
            backend = str(olds.get("backend") or job_props.target)
            if moved:
                view = move_run(backend, id_, job_props.where)
            else:
                view = observe_run(backend, id_, job_props.where)
        except BatchspecError as exc:
            error = _failure("update", news, exc)
        else:
            outs = outputs(job_props, view)
            outs["adopted"] = bool(olds.get("adopted"))
            return dynamic.UpdateResult(outs)
        raise error

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Cancel the job if it still runs; a finished job and its results stay."""
        try:
            job_props = JobProps.from_inputs(props)
            stop_run(str(props.get("backend") or job_props.target), id_, job_props.where)
        except BatchspecError as exc:
            error = _failure("delete", props, exc)
        else:
            return
        raise error


def _ended(state: Any) -> bool:
    from batchspec.model.enums import JobState

    try:
        return state is not None and JobState(state).terminal
    except ValueError:
        return False


def _failure(operation: str, props: Mapping[str, Any], exc: BatchspecError) -> ProviderError:
    name = props.get("name") or "?"
    return ProviderError(f"batchspec {operation} of job {name}: {describe_error(exc)}")


class BatchPredictionJob(dynamic.Resource, module="batchspec", name="BatchPredictionJob"):
    """One run of one spec revision (type `pulumi-python:dynamic/batchspec:BatchPredictionJob`).

    Outputs: `jobName` (the backend's job name), `state`, `outputDirectory`
    (where the results are, as the backend reports it), plus the state
    record's id, attempt and counts.
    """

    jobName: pulumi.Output[str]  # noqa: N815 - Pulumi property names are camelCase
    state: pulumi.Output[str]
    outputDirectory: pulumi.Output[str]  # noqa: N815
    backend: pulumi.Output[str]
    fingerprint: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        props: JobProps,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs: dict[str, Any] = props.to_inputs()
        for key in OUTPUT_KEYS:
            inputs.setdefault(key, None)
        options = pulumi.ResourceOptions.merge(
            pulumi.ResourceOptions(delete_before_replace=True), opts
        )
        super().__init__(BatchPredictionJobProvider(), resource_name, inputs, options)
