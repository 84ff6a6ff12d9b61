"""A batch command following batchspec's local file contract, for tests.

MODE: ok (one prediction per line, to AIP_BATCH_OUTPUT_DIR/<input name>),
fixed_path (seed 002's mistake: writes to a fixed place), short (a line
missing), fail (exit 2), garbage (a line that is not JSON); and seed 002's
failures by cause, each provoked for real: json_load (the whole file read as
one JSON document), key (reads the key field `id`), no_module (imports a
module that is not installed), no_library (loads a shared library that is
not there), memory (holds ever more memory), hang (waits forever, silently),
json_dump (writes all predictions as one JSON document).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile


def main() -> None:
    mode = os.environ.get("MODE", "ok")
    if mode == "fail":
        print("Traceback: model.py line 3: ModuleNotFoundError: libgomp", file=sys.stderr)
        sys.exit(2)
    provoke(mode)
    out_dir = os.environ["AIP_BATCH_OUTPUT_DIR"]
    for path in os.environ["AIP_BATCH_INPUT_URIS"].split(","):
        with open(path) as fh:
            if mode == "json_load":
                instances = json.load(fh)  # the seed's "correct" script
            else:
                instances = [json.loads(line) for line in fh if line.strip()]
        if mode == "key":
            preds = [{"id": inst["id"], "double": inst["n"] * 2} for inst in instances]
        preds = [{"double": inst["n"] * 2} for inst in instances]
        if mode == "short":
            preds = preds[:-1]
        target = os.path.join(out_dir, os.path.basename(path))
        if mode == "fixed_path":
            target = os.path.join(tempfile.gettempdir(), "output.json")
        with open(target, "w") as fh:
            if mode == "json_dump":  # the whole list as one document
                json.dump(preds, fh, indent=2)
                continue
            for i, p in enumerate(preds):
                fh.write(("not json" if mode == "garbage" and i == 1 else json.dumps(p)) + "\n")


def provoke(mode: str) -> None:
    """The failures that happen before any input is read."""
    if mode == "no_module":
        import sklearn_extra_not_installed  # type: ignore[import-not-found]  # noqa: F401
    if mode == "no_library":
        import ctypes

        ctypes.CDLL("libbatchspec_missing.so.1")
    if mode == "memory":
        held = []
        while True:
            held.append(b"x" * (16 * 2**20))  # written, so resident
    if mode == "hang":
        import time

        time.sleep(3600)


if __name__ == "__main__":
    main()
