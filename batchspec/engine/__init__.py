"""The local batch prediction engine: the embedded default backend's machinery.

    reader -> shaper -> batcher -> model runner -> writer, per shard, in
    worker processes supervised by one detached process per job.

Modules, bottom up:

* `paths`      relative paths, `file://`/`gs://` via fsspec, wildcard expansion
* `tfrecord`, `example`  TFRecord framing (crc32c checked) and tf.train.Example
* `formats`    readers per input format, yielding instances or per-line problems
* `instances`  keyField / included / excluded fields / instanceType shaping
* `plan`       deterministic shard planning (line-split large files)
* `runners`    python, sklearn, onnx, http (custom container), command
* `output`, `tables`, `stores`  staging + atomic publish of
               `prediction.*-NNNNN-of-NNNNN` to folders, URLs, BigQuery
* `shard`      the inner loop for one shard
* `budget`     the error budget -> SUCCEEDED / PARTIALLY_SUCCEEDED / FAILED
* `jobdir`, `jobhome`  the durable job folder (status, plan, shard records,
               lock) and the folder of job folders (create, adopt, archive)
* `prepare`    the plan (once), the output check, the shards already done
* `messages`, `pool`, `jobrun`  the worker-pool seam: typed worker messages,
               the `WorkerPool`/`PoolHost` protocols, a run's counts
* `worker`, `processpool`  the local pool: worker processes
* `supervisor` one process per job; `python -m batchspec.engine.supervisor DIR`

`batchspec.backends.local.LocalBackend` puts the job-as-a-resource face
(submit/get/list/cancel/outputs) on top of this; `batchspec.raycluster` runs
the same supervisor with a pool of Ray actors.
"""

from __future__ import annotations

from batchspec.engine.errors import (
    InputError,
    InstanceError,
    ModelContractError,
    ModelLoadError,
    OutputError,
)

__all__ = ["InputError", "InstanceError", "ModelContractError", "ModelLoadError", "OutputError"]
