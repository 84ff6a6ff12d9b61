"""Resources: machine types and accelerators, replica counts, batch sizes.

Vertex AI's `dedicatedResources` needs a `machineSpec.machineType`; the
accelerator that goes with it is Compute Engine's business (see
`batchspec.validate.machines`). Counts travel as int32 on Vertex AI and as
int64 strings on Cloud ML Engine: the schema bounds replica and accelerator
counts (int32 wherever they go) and every count at int64 (BS105); `batchSize`
is int64 on ML Engine but int32 on Vertex AI, which is this module's rule.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from batchspec.diagnostics import Diagnostic
from batchspec.model.limits import INT32_MAX
from batchspec.validate import machines
from batchspec.validate.rules.core import VERTEX, applies, is_set, rule

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec, Resources

BASE: Final = ("spec", "resources")

DEDICATED: Final = rule(
    "vertex-dedicated-resources",
    "BS270",
    (VERTEX,),
    "accelerator and replica counts need machineType (dedicatedResources.machineSpec is"
    " required); startingReplicaCount is at most maxReplicaCount",
    "aiplatform v1 BatchDedicatedResources.machine_spec, starting_replica_count",
)
INT32: Final = rule(
    "vertex-batch-size-int32",
    "BS270",
    (VERTEX,),
    "batchSize is int32 on Vertex AI (at most 2147483647; ML Engine's is int64)",
    "aiplatform v1 ManualBatchTuningParameters.batch_size (format int32)",
)
ACCELERATOR_TYPE: Final = rule(
    "vertex-accelerator-type",
    "BS271",
    (VERTEX,),
    "acceleratorType is one of Vertex AI's AcceleratorType values",
    "aiplatform v1 MachineSpec.accelerator_type (AcceleratorType enum)",
)
GPU_PAIRING: Final = rule(
    "compute-gpu-pairing",
    "BS271",
    (VERTEX,),
    "N1 machine types take T4, P4, V100, P100, K80 in their listed counts and vCPU ceilings;"
    " accelerator-optimized types (A2, A3, A4, G2, G4, TPU v5e) take their own accelerator,"
    " 1 to N of it; other families take none",
    "https://cloud.google.com/compute/docs/gpus;"
    " https://cloud.google.com/compute/docs/accelerator-optimized-machines;"
    " aiplatform v1 MachineSpec.accelerator_count",
)
MACHINE_FORM: Final = rule(
    "vertex-machine-type-form",
    "BS271",
    (VERTEX,),
    "machineType is a Compute Engine machine type name such as n1-standard-4",
    "aiplatform v1 MachineSpec.machine_type;"
    " https://cloud.google.com/vertex-ai/docs/predictions/configure-compute",
)
BATCH_SIZE: Final = rule(
    "vertex-batch-size-dedicated",
    "BS253",
    (VERTEX,),
    "Warning: batchSize applies only with dedicated resources (machineType)",
    "aiplatform v1 BatchPredictionJob.manual_batch_tuning_parameters",
)
PUBLISHER_MACHINES: Final = rule(
    "publisher-model-resources",
    "BS253",
    (VERTEX,),
    "Warning: publisher models are served by Google; machine settings are for Model resources",
    "https://cloud.google.com/vertex-ai/docs/predictions/configure-compute (custom-trained"
    " and AutoML tabular models); aiplatform v1 BatchPredictionJob.dedicated_resources",
)


def vertex_resources(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Dedicated resources as Vertex AI takes them."""
    if not applies(DEDICATED, doc):
        return
    res = doc.spec.resources
    if res.max_replica_count and res.replica_count and res.max_replica_count < res.replica_count:
        yield DEDICATED.error("maxReplicaCount is below replicaCount", (*BASE, "maxReplicaCount"))
    if res.machine_type is None:
        for key, value in (
            ("accelerator", res.accelerator),
            ("replicaCount", res.replica_count),
            ("maxReplicaCount", res.max_replica_count),
        ):
            if value is not None:
                yield DEDICATED.error(
                    f"{key} needs machineType (Vertex dedicatedResources)",
                    (*BASE, key),
                    hint="add machineType, for example n1-standard-4",
                )
        if is_set(res, "batch_size"):
            yield BATCH_SIZE.warning(
                "Vertex uses batchSize only with dedicated resources (machineType)",
                (*BASE, "batchSize"),
            )
    elif doc.spec.model.publisher is not None:
        yield PUBLISHER_MACHINES.warning(
            "publisher models are served by Google; machineType and accelerators apply to"
            " Model resources",
            (*BASE, "machineType"),
        )
    if res.batch_size > INT32_MAX:
        yield INT32.error(
            f"{res.batch_size} is beyond Vertex AI's limit of {INT32_MAX}", (*BASE, "batchSize")
        )
    yield from accelerators(res)


def accelerators(res: Resources) -> Iterator[Diagnostic]:
    """The machine type and its accelerator, by Compute Engine's tables."""
    machine, acc = res.machine_type, res.accelerator
    if machine is None:
        return iter(())
    if acc is None:
        return iter(_machine_problems(machine, None, 0))
    return iter(_machine_problems(machine, acc.type, acc.count))


@functools.lru_cache(maxsize=1024)
def _machine_problems(machine: str, acc_type: str | None, count: int) -> tuple[Diagnostic, ...]:
    """What Compute Engine's tables say of a machine type and its accelerator
    (none when `acc_type` is None), remembered: a tree uses few machines
    (diagnostics are immutable, so sharing them is safe)."""
    return tuple(_machine(machine, acc_type, count))


def _machine(machine: str, acc_type: str | None, count: int) -> Iterator[Diagnostic]:
    if not machines.MACHINE_TYPE.match(machine):
        yield MACHINE_FORM.error(
            f"{machine!r} is not a machine type name",
            (*BASE, "machineType"),
            hint="for example n1-standard-4, g2-standard-8, a2-highgpu-1g",
        )
        return
    if acc_type is not None and acc_type not in machines.ACCELERATOR_TYPES:
        yield ACCELERATOR_TYPE.error(
            f"unknown accelerator type {acc_type!r}",
            (*BASE, "accelerator", "type"),
            hint="one of " + ", ".join(sorted(machines.ACCELERATOR_TYPES)),
        )
        return
    attached = machines.ATTACHED.get(machine)
    if attached is not None:
        yield from _attached(machine, attached, acc_type, count)
    elif machines.n1_cpus(machine) is not None:
        yield from _n1(machine, acc_type, count)
    elif acc_type is not None and machines.NO_ACCELERATOR.match(machine):
        yield GPU_PAIRING.error(
            f"{machine} machines take no accelerators",
            (*BASE, "accelerator"),
            hint="use an N1 machine type with a T4, P4, V100 or P100, or an"
            " accelerator-optimized type (a2-, a3-, g2-)",
        )


def _attached(
    machine: str, attached: tuple[str, int], acc_type: str | None, count: int
) -> Iterator[Diagnostic]:
    kind, most = attached
    if acc_type is None:
        yield GPU_PAIRING.warning(
            f"{machine} comes with {most} {kind}; say so in `accelerator`",
            (*BASE, "machineType"),
            hint=f"accelerator: {{type: {kind}, count: {most}}}",
        )
        return
    if acc_type != kind:
        yield GPU_PAIRING.error(
            f"{machine} comes with {kind}, not {acc_type}",
            (*BASE, "accelerator", "type"),
            hint=f"type: {kind}",
        )
    elif not 1 <= count <= most:
        yield GPU_PAIRING.error(
            f"{machine} has {most} {kind}; the count is 1 to {most}",
            (*BASE, "accelerator", "count"),
        )


def _n1(machine: str, acc_type: str | None, count: int) -> Iterator[Diagnostic]:
    if acc_type is None:
        return
    counts = machines.N1_GPUS.get(acc_type)
    if counts is None:
        yield GPU_PAIRING.error(
            f"N1 machine types do not take {acc_type}",
            (*BASE, "accelerator", "type"),
            hint="N1 takes "
            + ", ".join(machines.N1_GPUS)
            + "; "
            + next((m for m, (k, _) in machines.ATTACHED.items() if k == acc_type), "another")
            + " comes with it",
        )
        return
    if count not in counts:
        yield GPU_PAIRING.error(
            f"{acc_type} attaches to N1 machines in counts of " + ", ".join(str(n) for n in counts),
            (*BASE, "accelerator", "count"),
        )
        return
    cpus = machines.n1_cpus(machine) or 0
    if cpus > counts[count]:
        yield GPU_PAIRING.error(
            f"{machine} has {cpus} vCPUs; with {count} {acc_type} an N1 machine has at most"
            f" {counts[count]}",
            (*BASE, "machineType"),
            hint="choose a smaller machine or more GPUs",
        )


__all__ = ["accelerators", "vertex_resources"]
