"""`batchspec schema`: print the JSON Schema of spec documents."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the command."""
    sub.add_parser(
        "schema",
        help="print the JSON Schema of spec documents",
        description="Print the JSON Schema (draft 2020-12) that spec documents follow.",
    )


def run(args: argparse.Namespace) -> int:
    """Print the schema."""
    from batchspec.model.jsonschema import schema_text

    print(schema_text(), end="")
    return 0
