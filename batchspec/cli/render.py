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
from typing import Any

from batchspec.cli._output import add_output_option

TARGET_CHOICES = ["vertex", "mlengine", "genai", "local", "ray"]


EXAMPLES = [
    ("batchspec render specs/tickets_vertex.yaml", "the exact request Vertex AI will receive"),
    ("batchspec render specs -n ticket_priority -o yaml", "one job of a folder, as YAML"),
    ("batchspec render specs/tickets_vertex.yaml --body-only", "only the request body"),
]


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "render",
        help="print the request body each spec compiles to",
        description="Compile specs and print the request bodies (the exact JSON a service"
        " receives), with method, URL and fingerprint. Exit 1 when a spec is invalid or"
        " cannot be compiled for the target.",
    )
    p.add_argument("paths", nargs="+", metavar="SPEC", help="spec files or folders")
    p.add_argument(
        "--target",
        "-t",
        choices=TARGET_CHOICES,
        help="compile for this target instead of each spec's own",
    )
    add_output_option(p, ["json", "yaml"])
    p.add_argument(
        "--name",
        "-n",
        action="append",
        default=[],
        help="only the spec with this job name (repeatable)",
    )
    p.add_argument(
        "--body-only",
        action="store_true",
        help="print only the request body (needs exactly one spec)",
    )
    p.add_argument(
        "--check",
        dest="check",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="check each body against Google's discovery schema (default: when"
        " google-api-python-client is installed)",
    )


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
    chosen = len(compiled.jobs) + len(compiled.failures)
    if args.body_only and chosen != 1:
        raise BatchspecError(
            f"--body-only needs exactly one spec, found {chosen}",
            hint="pick one with --name",
        )
    rendered = [render_document(job) for job in compiled.jobs]
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


def render_document(job: Any) -> dict[str, Any]:
    """One compiled job as the document `render` prints."""
    from batchspec.compile.wire import call_description
    from batchspec.state.redact import redact_job_body

    return {
        "name": job.name,
        "target": job.target.value,
        "fingerprint": job.fingerprint,
        **call_description(job),
        "body": redact_job_body(job),  # secrets never reach a terminal or a CI log
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
