"""`batchspec validate [PATHS...]`: check specs, report every problem at once."""

from __future__ import annotations

import argparse

DEFAULT_PATHS = ["specs"]


def run(args: argparse.Namespace) -> int:
    """Validate and print the report."""
    from batchspec.validate import validate_paths
    from batchspec.validate.report import render_json, render_text

    result = validate_paths(args.paths or DEFAULT_PATHS, keep_specs=False)
    render = render_json if args.output == "json" else render_text
    print(render(result.diagnostics, files=result.files, specs=result.valid))
    failed = not result.ok or (args.strict and bool(result.diagnostics))
    return 1 if failed else 0
