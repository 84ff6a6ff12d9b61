"""`batchspec render SPEC...`: print the exact request each spec compiles to.

Output is meant for review and `diff`: keys sorted at every level, two-space
indents, one document per spec (a JSON list or YAML `---` documents when there
are several). Each document says which call the body is for (method, URL,
parent) and the fingerprint. Secret values are redacted (`<redacted>`) and
`${env:NAME}` references are shown as written: they are resolved only when
the job is submitted. stdout holds only the rendering; diagnostics and
warnings go to stderr. Nothing is printed to stdout unless every selected spec
compiles, so a pipeline never sees half an answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from typing import Any

_MINUTE = timedelta(minutes=1)


def run(args: argparse.Namespace) -> int:
    """Validate, compile, print."""
    from batchspec.compile.paths import compile_paths, require_matches
    from batchspec.errors import BatchspecError
    from batchspec.model.enums import Target

    compiled = compile_paths(
        args.paths,
        select=args.name,
        target=Target(args.target) if args.target else None,
        keep_going=False,
        conformance=_want_check(args.check),
    )
    if not compiled.validation.ok:
        _report(compiled.diagnostics, files=compiled.files, specs=len(compiled.validation.specs))
        return 1
    require_matches(compiled.validation, args.name, "these specs")
    chosen = len(compiled.jobs) + len(compiled.models) + len(compiled.failures)
    if args.body_only and chosen != 1:
        raise BatchspecError(
            f"--body-only needs exactly one spec, found {chosen}",
            hint="pick one with --name",
        )
    at = _run_at(args.run_at) if args.run_at else None
    # Models first: apply uploads them before the jobs that run them.
    rendered = [render_model(m) for m in compiled.models]
    rendered += [render_document(job, run_at=at) for job in compiled.jobs]
    if any(d.is_error for d in compiled.diagnostics):
        _report(compiled.diagnostics, files=compiled.files, specs=len(rendered))
        return 1
    if compiled.diagnostics:
        _report(compiled.diagnostics, files=compiled.files, specs=len(rendered))
    documents = [r["body"] for r in rendered] if args.body_only else rendered
    sys.stdout.write(format_documents(documents, args.output))
    return 0


def _want_check(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    import importlib.util

    return importlib.util.find_spec("googleapiclient") is not None


def _report(diagnostics: list[Any], *, files: int, specs: int) -> None:
    from batchspec.diagnostics import sort_key
    from batchspec.validate.report import render_text

    ordered = sorted(diagnostics, key=sort_key)
    print(render_text(ordered, files=files, specs=specs), file=sys.stderr)


def render_document(job: Any, *, run_at: Any = None) -> dict[str, Any]:
    """One compiled job as the document `render` prints; a recurring spec's as
    its run at `run_at` (naive: on the schedule's wall clock), default its next run."""
    from batchspec.compile.wire import call_description
    from batchspec.state.redact import redact_job_body

    fingerprint, run = job.fingerprint, None
    if job.effective.recurring:
        job, run = _as_run(job, run_at)
    return {
        "name": job.name,
        "target": job.target.value,
        "fingerprint": fingerprint,
        **({"run": run} if run else {}),
        **call_description(job),
        "body": redact_job_body(job),  # secrets never reach a terminal or a CI log
    }


def _run_at(text: str) -> Any:
    from datetime import datetime

    from batchspec.errors import BatchspecError

    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BatchspecError(
            f"--run-at {text!r} is not a time",
            hint="ISO 8601, e.g. 2026-12-24T02:00 (the schedule's zone) or 2026-12-24T01:00Z",
        ) from None


def _as_run(job: Any, run_at: Any) -> tuple[Any, dict[str, Any]]:
    """`job` as submitted for one run, and what identifies that run."""
    from datetime import UTC

    from batchspec.plan.attempts import for_run
    from batchspec.plan.recurring import cron_of
    from batchspec.schedule.cron import shown, zone
    from batchspec.schedule.variables import RunContext, run_key
    from batchspec.state.records import utc_now

    cron = cron_of(job)
    zone_name = cron.zone_name if cron else "UTC"
    if run_at is None:
        upcoming = cron.next(utc_now()) if cron else []
        at = upcoming[0] if upcoming else utc_now().replace(microsecond=0)
    elif run_at.tzinfo is None:
        at = run_at.replace(tzinfo=zone(zone_name)).astimezone(UTC)
    else:
        at = run_at.astimezone(UTC)
    if cron is not None and run_at is not None and at not in cron.next(at - _MINUTE):
        upcoming = cron.next(at)
        after = f"; the next tick is {cron.shown(upcoming[0])}" if upcoming else ""
        print(f"note: {cron.shown(at)} is not one of the schedule's ticks{after}", file=sys.stderr)
    context = RunContext(run_key(at), at, zone_name)
    submitted = for_run(job, context)
    return submitted, {"key": context.key, "scheduledAt": shown(at, zone_name)}


def render_model(model: Any) -> dict[str, Any]:
    """One compiled Model document: its `models.upload` request."""
    from batchspec.compile.wire import upload_request
    from batchspec.state.redact import marked_keys, redact

    wire = upload_request(model)
    spec = model.spec.model_dump(mode="json", by_alias=True)
    return {
        "name": model.name,
        "kind": "Model",
        "fingerprint": model.fingerprint,
        "version": model.version,
        "method": wire.method,
        "http": f"{wire.http_method} {wire.url}",
        "parent": model.parent,
        "body": redact(dict(model.body), marked_keys(spec)),
    }


def format_documents(documents: list[Any], output: str) -> str:
    """JSON (an object, or a list for several) or YAML (`---` between documents),
    keys sorted at every level, ending in a newline."""
    if output == "json":
        value = documents[0] if len(documents) == 1 else documents
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return "---\n".join(_yaml(_sorted(doc)) for doc in documents)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _yaml(value: Any) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.width = 4096
    stream = io.StringIO()
    yaml.dump(value, stream)
    return stream.getvalue()
