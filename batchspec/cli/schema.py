"""`batchspec schema`: print the JSON Schema of spec documents, or where the
installed package keeps it (`--path`, for editors and offline validators)."""

from __future__ import annotations

import argparse

PACKAGED_SCHEMA = "batchspec.v1.schema.json"  # in batchspec/data/


def run(args: argparse.Namespace) -> int:
    """Print the schema, or its packaged path."""
    if args.path:
        print(packaged_path())
        return 0
    from batchspec.model.jsonschema import schema_text

    print(schema_text(), end="")
    return 0


def packaged_path() -> str:
    """The schema file shipped in the package (a real file on disk: wheels are
    installed unpacked)."""
    from importlib.resources import as_file, files

    from batchspec.errors import BatchspecError

    resource = files("batchspec") / "data" / PACKAGED_SCHEMA
    if not resource.is_file():
        raise BatchspecError(
            f"this installation of batchspec has no {PACKAGED_SCHEMA}",
            hint="reinstall batchspec; `batchspec schema > FILE` writes the schema anyway",
        )
    with as_file(resource) as path:
        return str(path)
