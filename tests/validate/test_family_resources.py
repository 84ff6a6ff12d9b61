"""Resources, project, service account, encryption key, display name and
regions, each case with its source."""

from __future__ import annotations

import pytest

from tests.validate.cases import Case, check_case, ids

N1_GPUS = "https://cloud.google.com/compute/docs/gpus (N1 GPU counts and vCPU ceilings)"
OPTIMIZED = (
    "https://cloud.google.com/compute/docs/accelerator-optimized-machines;"
    " aiplatform v1 MachineSpec.accelerator_count (1 to N)"
)
TPU = "https://cloud.google.com/vertex-ai/docs/predictions/use-tpu"
ENUM = "aiplatform v1 MachineSpec.accelerator_type (AcceleratorType)"
INT32 = "aiplatform v1 BatchDedicatedResources, ManualBatchTuningParameters (format int32)"
INT64 = "ml v1 PredictionInput.batchSize, maxWorkerCount (format int64); the schema's bound"
DEDICATED = "aiplatform v1 BatchDedicatedResources"
PROJECT = "https://cloud.google.com/resource-manager/reference/rest/v1/projects (projectId)"
SA = "aiplatform v1 BatchPredictionJob.service_account; IAM service account emails"
KMS = "aiplatform v1 EncryptionSpec.kms_key_name (same region as the resource)"
DISPLAY = "google-cloud-aiplatform utils.validate_display_name (128)"
REGIONS = "google-cloud-aiplatform constants/base.py SUPPORTED_REGIONS"
ACC, MACHINE = "spec.resources.accelerator", "spec.resources.machineType"
KEY = "projects/proj-123456/locations/us-central1/keyRings/ring/cryptoKeys/key"


def gpu(machine: str, kind: str | None = None, count: int = 1) -> dict[str, object]:
    resources: dict[str, object] = {"machineType": machine}
    if kind:
        resources["accelerator"] = {"type": kind, "count": count}
    return {"resources": resources}


T4, V100, A100, L4 = "NVIDIA_TESLA_T4", "NVIDIA_TESLA_V100", "NVIDIA_TESLA_A100", "NVIDIA_L4"
RESOURCES: list[Case] = [
    Case("n1-t4-1", "vertex", gpu("n1-standard-4", T4), None, source=N1_GPUS),
    Case("n1-t4-3", "vertex", gpu("n1-standard-4", T4, 3), "BS271", f"{ACC}.count", N1_GPUS),
    Case("n1-t4-4", "vertex", gpu("n1-standard-4", T4, 4), None, source=N1_GPUS),
    Case("n1-32-t4-1", "vertex", gpu("n1-highmem-32", T4), None, source=N1_GPUS),
    Case("n1-64-t4-2", "vertex", gpu("n1-standard-64", T4, 2), "BS271", MACHINE, N1_GPUS),
    Case("n1-64-t4-4", "vertex", gpu("n1-standard-64", T4, 4), None, source=N1_GPUS),
    Case("n1-8-v100-1", "vertex", gpu("n1-standard-8", V100), None, source=N1_GPUS),
    Case("n1-16-v100-1", "vertex", gpu("n1-standard-16", V100), "BS271", MACHINE, N1_GPUS),
    Case("n1-16-v100-2", "vertex", gpu("n1-standard-16", V100, 2), None, source=N1_GPUS),
    Case("n1-a100", "vertex", gpu("n1-standard-8", A100), "BS271", f"{ACC}.type", N1_GPUS),
    Case("a2-1g", "vertex", gpu("a2-highgpu-1g", A100), None, source=OPTIMIZED),
    Case("a2-1g-t4", "vertex", gpu("a2-highgpu-1g", T4), "BS271", f"{ACC}.type", OPTIMIZED),
    Case("a2-4g-4", "vertex", gpu("a2-highgpu-4g", A100, 4), None, source=OPTIMIZED),
    Case("a2-4g-2-shared", "vertex", gpu("a2-highgpu-4g", A100, 2), None, source=OPTIMIZED),
    Case("a2-4g-5", "vertex", gpu("a2-highgpu-4g", A100, 5), "BS271", f"{ACC}.count", OPTIMIZED),
    Case("a2-ultra", "vertex", gpu("a2-ultragpu-1g", "NVIDIA_A100_80GB"), None, source=OPTIMIZED),
    Case("a3-8g", "vertex", gpu("a3-highgpu-8g", "NVIDIA_H100_80GB", 8), None, source=OPTIMIZED),
    Case("g2-24-2", "vertex", gpu("g2-standard-24", L4, 2), None, source=OPTIMIZED),
    Case("g2-24-3", "vertex", gpu("g2-standard-24", L4, 3), "BS271", f"{ACC}.count", OPTIMIZED),
    Case("a2-no-accelerator", "vertex", gpu("a2-highgpu-1g"), "BS271", MACHINE, OPTIMIZED, True),
    Case(
        "e2-t4",
        "vertex",
        gpu("e2-standard-4", T4),
        "BS271",
        ACC,
        "https://cloud.google.com/compute/docs/gpus (GPUs attach to N1 and A/G series)",
    ),
    Case("tpu-v5e-4", "vertex", gpu("ct5lp-hightpu-4t", "TPU_V5_LITEPOD", 4), None, source=TPU),
    Case(
        "tpu-v5e-8-on-4t",
        "vertex",
        gpu("ct5lp-hightpu-4t", "TPU_V5_LITEPOD", 8),
        "BS271",
        f"{ACC}.count",
        TPU,
    ),
    Case(
        "unknown-accelerator",
        "vertex",
        gpu("n1-standard-4", "NVIDIA_TESLA_T5"),
        "BS271",
        f"{ACC}.type",
        ENUM,
    ),
    Case(
        "machine-not-a-name",
        "vertex",
        gpu("N1 Standard 4"),
        "BS271",
        MACHINE,
        "aiplatform v1 MachineSpec.machine_type",
    ),
    Case(
        "accelerator-without-machine",
        "vertex",
        {"resources": {"accelerator": {"type": T4}}},
        "BS270",
        ACC,
        DEDICATED,
    ),
    Case(
        "replicas-inverted",
        "vertex",
        {"resources": {"machineType": "n1-standard-4", "replicaCount": 4, "maxReplicaCount": 2}},
        "BS270",
        "spec.resources.maxReplicaCount",
        DEDICATED,
    ),
    Case(
        "replicas-equal",
        "vertex",
        {"resources": {"machineType": "n1-standard-4", "replicaCount": 4, "maxReplicaCount": 4}},
        None,
        source=DEDICATED,
    ),
    Case(
        "replicas-int32-max",
        "vertex",
        {"resources": {"machineType": "n1-standard-4", "replicaCount": 2**31 - 1}},
        None,
        source=INT32,
    ),
    Case(
        "replicas-int32-over",
        "vertex",
        {"resources": {"machineType": "n1-standard-4", "replicaCount": 2**31}},
        "BS105",
        "spec.resources.replicaCount",
        INT32,
    ),
    Case(
        "batch-int32-over",
        "vertex",
        {"resources": {"machineType": "n1-standard-4", "batchSize": 2**31}},
        "BS270",
        "spec.resources.batchSize",
        INT32,
    ),
    Case("batch-int32-on-mle", "mlengine", {"resources": {"batchSize": 2**31}}, None, source=INT64),
    Case(
        "workers-int64-over",
        "mlengine",
        {"resources": {"maxWorkerCount": 2**63}},
        "BS105",
        "spec.resources.maxWorkerCount",
        INT64,
    ),
    Case(
        "publisher-machine",
        "publisher",
        gpu("n1-standard-4"),
        "BS253",
        MACHINE,
        "https://cloud.google.com/vertex-ai/docs/predictions/configure-compute",
        True,
    ),
]

ACCESS: list[Case] = [
    Case("project-6", "vertex", {"project": "abcdef"}, None, source=PROJECT),
    Case("project-5", "vertex", {"project": "abcde"}, "BS262", "spec.project", PROJECT),
    Case("project-30", "vertex", {"project": "a" * 30}, None, source=PROJECT),
    Case("project-31", "vertex", {"project": "a" * 31}, "BS262", "spec.project", PROJECT),
    Case("project-spaces", "vertex", {"project": "my project"}, "BS262", "spec.project", PROJECT),
    Case("project-upper", "mlengine", {"project": "Proj-123"}, "BS262", "spec.project", PROJECT),
    Case(
        "project-trailing-hyphen",
        "genai",
        {"project": "proj-12345-"},
        "BS262",
        "spec.project",
        PROJECT,
    ),
    Case(
        "project-number",
        "vertex",
        {"project": "123456789012"},
        None,
        source=f"{PROJECT} (projectNumber); aiplatform v1 create.parent",
    ),
    Case(
        "project-domain-scoped",
        "vertex",
        {"project": "example.com:my-project"},
        None,
        source="https://cloud.google.com/resource-manager/docs/creating-managing-projects",
    ),
    Case(
        "sa-email",
        "vertex",
        {"serviceAccount": "sa@proj-123456.iam.gserviceaccount.com"},
        None,
        source=SA,
    ),
    Case(
        "sa-compute",
        "vertex",
        {"serviceAccount": "123456-compute@developer.gserviceaccount.com"},
        None,
        source=SA,
    ),
    Case(
        "sa-not-email",
        "vertex",
        {"serviceAccount": "batch-jobs"},
        "BS263",
        "spec.serviceAccount",
        SA,
    ),
    Case(
        "sa-other-domain",
        "vertex",
        {"serviceAccount": "me@example.com"},
        "BS263",
        "spec.serviceAccount",
        SA,
        True,
    ),
    Case("kms-ok", "vertex", {"encryptionKeyName": KEY}, None, source=KMS),
    Case(
        "kms-short",
        "vertex",
        {"encryptionKeyName": "my-key"},
        "BS264",
        "spec.encryptionKeyName",
        KMS,
    ),
    Case(
        "kms-other-region",
        "vertex",
        {"encryptionKeyName": KEY.replace("us-central1", "europe-west4")},
        "BS264",
        "spec.encryptionKeyName",
        KMS,
    ),
    Case(
        "kms-ring-63",
        "vertex",
        {"encryptionKeyName": KEY.replace("ring", "r" * 63)},
        None,
        source="https://cloud.google.com/kms/docs/resource-hierarchy",
    ),
    Case(
        "kms-ring-64",
        "vertex",
        {"encryptionKeyName": KEY.replace("ring", "r" * 64)},
        "BS264",
        "spec.encryptionKeyName",
        "https://cloud.google.com/kms/docs/resource-hierarchy",
    ),
    Case(
        "display-unicode",
        "vertex",
        {},
        None,
        source=DISPLAY,
        metadata={"displayName": "Résumé scoring: nightly 🌙 (夜間)"},
    ),
    Case("display-128", "vertex", {}, None, source=DISPLAY, metadata={"displayName": "d" * 128}),
    Case(
        "display-129",
        "vertex",
        {},
        "BS265",
        "metadata.displayName",
        DISPLAY,
        metadata={"displayName": "d" * 129},
    ),
    Case(
        "display-empty",
        "genai",
        {},
        "BS265",
        "metadata.displayName",
        "aiplatform v1 BatchPredictionJob.display_name (required)",
        metadata={"displayName": " "},
    ),
    Case(
        "display-mle",
        "mlengine",
        {},
        "BS301",
        "metadata.displayName",
        "ml v1 Job (no name)",
        True,
        metadata={"displayName": "Census"},
    ),
    Case(
        "logging-vertex",
        "vertex",
        {"disableContainerLogging": True},
        None,
        source="aiplatform v1 BatchPredictionJob.disable_container_logging",
    ),
    Case(
        "logging-genai",
        "genai",
        {"disableContainerLogging": True},
        "BS301",
        "spec.disableContainerLogging",
        "google-genai types.CreateBatchJobConfig",
        True,
    ),
    Case("region-global-vertex", "publisher", {"region": "global"}, None, source=REGIONS),
    Case("region-typo", "vertex", {"region": "us-centrall"}, "BS211", "spec.region", REGIONS),
    Case(
        "region-mle",
        "mlengine",
        {"region": "europe-west4"},
        "BS211",
        "spec.region",
        "https://cloud.google.com/ai-platform/prediction/docs/batch-predict (regions)",
    ),
]


@pytest.mark.parametrize("case", RESOURCES, ids=ids(RESOURCES))
def test_resources(case: Case) -> None:
    check_case(case)


@pytest.mark.parametrize("case", ACCESS, ids=ids(ACCESS))
def test_project_account_key_display_name_region(case: Case) -> None:
    check_case(case)
