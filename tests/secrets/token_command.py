"""A batch command (batchspec's local file contract) that proves which
secrets it was given without ever writing them: each prediction holds the
first 12 hex digits of the sha256 of API_TOKEN and DB_PASSWORD."""

from __future__ import annotations

import hashlib
import json
import os


def digest(name: str) -> str:
    return hashlib.sha256(os.environ.get(name, "").encode()).hexdigest()[:12]


def main() -> None:
    out_dir = os.environ["AIP_BATCH_OUTPUT_DIR"]
    seen = {"token": digest("API_TOKEN"), "password": digest("DB_PASSWORD")}
    for path in os.environ["AIP_BATCH_INPUT_URIS"].split(","):
        with open(path) as fh:
            count = sum(1 for line in fh if line.strip())
        with open(os.path.join(out_dir, os.path.basename(path)), "w") as fh:
            fh.writelines(json.dumps(seen) + "\n" for _ in range(count))


if __name__ == "__main__":
    main()
