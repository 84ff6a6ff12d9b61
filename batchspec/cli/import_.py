"""`batchspec import FILE|-`: turn an ML Engine job into a v1 spec.

Reads a `projects.jobs` JSON body (or a list, as `jobs list --format json`
prints) or a `gcloud ml-engine|ai-platform jobs submit prediction` command
(a script that sets its variables first is fine). Writes YAML to stdout or
`-o FILE`; refuses to overwrite a file unless `--force`. Nothing is written
unless the spec compiles back to the same job.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO, Any

# Job bodies and scripts are kilobytes; `jobs list` of a busy project a few
# megabytes. Reading stops past this, so `import /dev/zero` cannot hang.
MAX_INPUT_BYTES = 16 << 20


def run(args: argparse.Namespace) -> int:
    """Import and write."""
    from batchspec.errors import BatchspecError
    from batchspec.migrate import import_text

    text, source = _read(args.input)
    variables = _variables(args.variables)
    out = Path(args.output) if args.output else None
    if out is not None and out.exists() and not args.force:
        raise BatchspecError(f"{out} exists", hint="pass --force to overwrite it")
    result = import_text(
        text,
        kind=args.kind,
        source=source,
        project=args.project,
        name=args.name,
        variables=variables,
    )
    for job in result.jobs:
        for warning in job.warnings:
            print(f"warning: {job.fields.name}: {warning}", file=sys.stderr)
    if out is None:
        sys.stdout.write(result.yaml)
    else:
        try:
            out.write_text(result.yaml, encoding="utf-8")
        except OSError as exc:
            raise BatchspecError(f"cannot write {out}: {exc.strerror}") from None
        names = ", ".join(job.fields.name for job in result.jobs)
        print(f"wrote {out} ({names})", file=sys.stderr)
    return 0


def _read(name: str) -> tuple[str, str]:
    from batchspec.errors import BatchspecError

    if name == "-":
        return _bounded(getattr(sys.stdin, "buffer", sys.stdin), name), "stdin"
    path = Path(name)
    try:
        with path.open("rb") as stream:
            return _bounded(stream, name), path.name
    except FileNotFoundError:
        raise BatchspecError(f"no such file: {name}", hint="use - to read stdin") from None
    except OSError as exc:
        raise BatchspecError(f"cannot read {name}: {exc.strerror or exc}") from None


def _bounded(stream: IO[Any], name: str) -> str:
    """At most MAX_INPUT_BYTES of UTF-8 text from `stream`."""
    from batchspec.errors import BatchspecError

    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise BatchspecError(
            f"{'stdin' if name == '-' else name} is larger than {MAX_INPUT_BYTES >> 20} MiB",
            hint="import one job body, a `jobs list` page or one script at a time",
        )
    if isinstance(data, str):
        return data
    try:
        return str(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise BatchspecError(
            f"cannot read {name}: not UTF-8 text (byte {exc.start})",
            hint="save the file as UTF-8",
        ) from None


def _variables(items: list[str]) -> dict[str, str]:
    from batchspec.errors import BatchspecError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise BatchspecError(
                f"--set {item!r} is not NAME=VALUE", hint="e.g. --set MODEL=census"
            )
        out[key] = value
    return out
