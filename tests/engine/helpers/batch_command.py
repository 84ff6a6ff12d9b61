"""A batch command following batchspec's local file contract, for tests.

MODE: ok (one prediction per line, to AIP_BATCH_OUTPUT_DIR/<input name>),
fixed_path (seed 002's mistake: writes to a fixed place), short (a line
missing), fail (exit 2), garbage (a line that is not JSON).
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
    out_dir = os.environ["AIP_BATCH_OUTPUT_DIR"]
    for path in os.environ["AIP_BATCH_INPUT_URIS"].split(","):
        with open(path) as fh:
            instances = [json.loads(line) for line in fh if line.strip()]
        preds = [{"double": inst["n"] * 2} for inst in instances]
        if mode == "short":
            preds = preds[:-1]
        target = os.path.join(out_dir, os.path.basename(path))
        if mode == "fixed_path":
            target = os.path.join(tempfile.gettempdir(), "output.json")
        with open(target, "w") as fh:
            for i, p in enumerate(preds):
                fh.write(("not json" if mode == "garbage" and i == 1 else json.dumps(p)) + "\n")


if __name__ == "__main__":
    main()
