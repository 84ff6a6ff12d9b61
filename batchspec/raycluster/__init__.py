"""Running a batchspec job on a Ray cluster: the side that runs ON the cluster.

`batchspec.backends.ray.RayBackend` submits a job through Ray's Jobs API with
the entrypoint `python -m batchspec.raycluster`. That driver is the local
engine's supervisor with another pool: it keeps a job folder on the head node
(plan, shard records, status: resume and the error budget work as they do
locally), plans the shards with the engine, and spreads them over a pool of
Ray actors, each loading the model once and running the engine's
`process_shard`, so outputs have the same `-NNNNN-of-NNNNN` names, keys and
temporary-then-rename commit as a local run, byte for byte.

Modules:

* `protocol`  what the driver tells the client: status lines in the job's log
              and exit codes (no Ray import: the client reads them), and how
              either side imports Ray or says how to install it
* `sizing`    how many actors of what size; refuses a pool that would take
              every CPU (ray-project/ray#44687)
* `actor`     the actor: one model load, then shards on request
* `driver`    the supervisor subclass with the actor pool, and the entrypoint
* `localcluster`  a throwaway loopback cluster for tests, benchmarks and trials

Only `driver` (at run time) and `localcluster` import Ray.
"""
