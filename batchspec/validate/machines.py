"""Machine types and the accelerators they take, as Compute Engine lists them.

Vertex AI runs batch jobs on Compute Engine machines (`MachineSpec`), so
Compute Engine's GPU tables decide which `acceleratorType` goes with which
`machineType`, and how many:

* N1 machine types take the older GPUs, in fixed counts, each count with a
  vCPU ceiling: https://cloud.google.com/compute/docs/gpus#n1-gpus
* Accelerator-optimized machine types (A2, A3, A4, G2, G4) come with their
  GPUs attached: https://cloud.google.com/compute/docs/accelerator-optimized-machines
  On Vertex AI, `acceleratorCount` may be 1 to N for a machine with N GPUs
  (replicas then share the machine): aiplatform v1 MachineSpec.accelerator_count.
* TPU v5e (`ct5lp-hightpu-*t`) serves predictions with 1, 4 or 8 chips:
  https://cloud.google.com/vertex-ai/docs/predictions/use-tpu
* The accelerator types themselves are the AcceleratorType enum of aiplatform
  v1 (a test keeps this copy in step with the discovery document).

Plain data, so `batchspec validate` imports nothing heavy.
"""

from __future__ import annotations

from batchspec.patterns import lazy

ACCELERATOR_TYPES = frozenset(
    {
        "NVIDIA_TESLA_K80", "NVIDIA_TESLA_P100", "NVIDIA_TESLA_V100", "NVIDIA_TESLA_P4",
        "NVIDIA_TESLA_T4", "NVIDIA_TESLA_A100", "NVIDIA_A100_80GB", "NVIDIA_L4",
        "NVIDIA_H100_80GB", "NVIDIA_H100_MEGA_80GB", "NVIDIA_H200_141GB", "NVIDIA_B200",
        "NVIDIA_GB200", "NVIDIA_RTX_PRO_6000", "TPU_V2", "TPU_V3", "TPU_V4_POD",
        "TPU_V5_LITEPOD",
    }
)  # fmt: skip

# GPU type -> {GPU count: most vCPUs an N1 machine may have with that many}.
# P100 with 4 GPUs allows 64 vCPUs in some zones and 96 in others: the larger
# number is kept, so batchspec never refuses a machine a zone offers.
N1_GPUS: dict[str, dict[int, int]] = {
    "NVIDIA_TESLA_T4": {1: 48, 2: 48, 4: 96},
    "NVIDIA_TESLA_P4": {1: 24, 2: 48, 4: 96},
    "NVIDIA_TESLA_V100": {1: 12, 2: 24, 4: 48, 8: 96},
    "NVIDIA_TESLA_P100": {1: 16, 2: 32, 4: 96},
    "NVIDIA_TESLA_K80": {1: 8, 2: 16, 4: 32, 8: 64},
}


def _series(prefix: str, accelerator: str, sizes: dict[str, int]) -> dict[str, tuple[str, int]]:
    return {f"{prefix}{suffix}": (accelerator, n) for suffix, n in sizes.items()}


# Machine type -> (the accelerator it comes with, how many).
ATTACHED: dict[str, tuple[str, int]] = {
    **_series("a2-highgpu-", "NVIDIA_TESLA_A100", {"1g": 1, "2g": 2, "4g": 4, "8g": 8}),
    **_series("a2-megagpu-", "NVIDIA_TESLA_A100", {"16g": 16}),
    **_series("a2-ultragpu-", "NVIDIA_A100_80GB", {"1g": 1, "2g": 2, "4g": 4, "8g": 8}),
    **_series("a3-highgpu-", "NVIDIA_H100_80GB", {"1g": 1, "2g": 2, "4g": 4, "8g": 8}),
    **_series("a3-edgegpu-", "NVIDIA_H100_80GB", {"8g": 8}),
    **_series("a3-megagpu-", "NVIDIA_H100_MEGA_80GB", {"8g": 8}),
    **_series("a3-ultragpu-", "NVIDIA_H200_141GB", {"8g": 8}),
    **_series("a4-highgpu-", "NVIDIA_B200", {"8g": 8}),
    **_series("a4x-highgpu-", "NVIDIA_GB200", {"4g": 4}),
    **_series(
        "g2-standard-",
        "NVIDIA_L4",
        {"4": 1, "8": 1, "12": 1, "16": 1, "24": 2, "32": 1, "48": 4, "96": 8},
    ),
    **_series("g4-standard-", "NVIDIA_RTX_PRO_6000", {"48": 1, "96": 2, "192": 4, "384": 8}),
    **_series("ct5lp-hightpu-", "TPU_V5_LITEPOD", {"1t": 1, "4t": 4, "8t": 8}),
}

# Families whose machines take no accelerator at all (general-purpose and
# compute-optimized series other than N1).
NO_ACCELERATOR = lazy(r"^(e2|n2|n2d|n4|c2|c2d|c3|c3d|c4|t2a|t2d|m1|m2|m3)-")
N1 = lazy(r"^n1-(standard|highmem|highcpu)-(?P<cpus>[0-9]+)$")
MACHINE_TYPE = lazy(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")


def n1_cpus(machine_type: str) -> int | None:
    """The vCPUs of an N1 machine type, or None for other machine types."""
    found = N1.match(machine_type)
    return int(found["cpus"]) if found else None


__all__ = [
    "ACCELERATOR_TYPES",
    "ATTACHED",
    "MACHINE_TYPE",
    "N1_GPUS",
    "NO_ACCELERATOR",
    "n1_cpus",
]
