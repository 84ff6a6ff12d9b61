"""`batchspec validate [PATHS...]`: check specs, report every problem at once."""

from __future__ import annotations

import argparse
from typing import Any

from batchspec.cli._output import add_output_option

DEFAULT_PATHS = ["specs"]


EXAMPLES = [
    ("batchspec validate", "check every spec in specs/ (exit 0 clean, 1 errors)"),
    ("batchspec validate specs/tickets_local.yaml --strict", "one file; warnings count as errors"),
    ("batchspec validate -o json", "diagnostics as JSON, for editors and bots"),
]


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "validate",
        help="check specs against the schema and the rules",
        description="Check spec files against the JSON Schema and batchspec's rules."
        " Exit 0 when there is no error, 1 otherwise.",
    )
    p.add_argument("paths", nargs="*", help="files or folders (default: specs/)")
    add_output_option(p)
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")


def run(args: argparse.Namespace) -> int:
    """Validate and print the report."""
    from batchspec.validate import validate_paths
    from batchspec.validate.report import render_json, render_text

    result = validate_paths(args.paths or DEFAULT_PATHS, keep_specs=False)
    render = render_json if args.output == "json" else render_text
    print(render(result.diagnostics, files=result.files, specs=result.valid))
    failed = not result.ok or (args.strict and bool(result.diagnostics))
    return 1 if failed else 0
