"""`python -m tests.ray.cluster ROOT`: one local Ray cluster shared by a test run.

Under pytest-xdist each worker is its own process, and a session fixture runs
once per worker; a Ray cluster costs seconds and about 2 GB, so the workers
share one. The fixture leaves a lease (a file named after its pid) in
ROOT/leases and starts this launcher if none runs. The launcher starts the
cluster, writes ROOT/cluster.json ({"address": ...} or {"error": ...}), and
stops the cluster as soon as no lease belongs to a live process: when the
last worker is done, and also when workers die without cleaning up. The
cluster is tied to the launcher by the kernel (it dies with it), so nothing
outlives the test run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from batchspec.raycluster.localcluster import LocalCluster

NUM_CPUS = 2
POLL = 0.5


def leases_alive(folder: Path) -> bool:
    """True while some lease names a live process."""
    for lease in folder.iterdir():
        try:
            os.kill(int(lease.name), 0)
        except (ValueError, ProcessLookupError):
            lease.unlink(missing_ok=True)
            continue
        except PermissionError:
            pass
        return True
    return False


def write_info(path: Path, info: dict[str, object]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(path)


def main(root: Path) -> int:
    info = root / "cluster.json"
    cluster = LocalCluster(num_cpus=NUM_CPUS)
    try:
        try:
            cluster.start()
        except Exception as exc:
            write_info(info, {"error": f"{type(exc).__name__}: {exc}"})
            return 1
        write_info(
            info,
            {"address": cluster.address, "pid": os.getpid(), "startup": cluster.started_in},
        )
        while leases_alive(root / "leases"):
            time.sleep(POLL)
    finally:
        cluster.stop()
        info.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
