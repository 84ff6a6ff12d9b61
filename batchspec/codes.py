"""Every diagnostic code batchspec emits, with its name and what it means.

Codes are stable: tools and CI configurations match on them. Never reuse a
retired code. Ranges: BS0xx reading files, BS1xx schema, BS2xx rules from the
services' documentation, BS3xx compiling for a target, BS4xx Model documents
and the references to them, BS5xx a model run on this machine (the local
engine's diagnosis of a failed container or command, by cause).
"""

from __future__ import annotations

from typing import NamedTuple


class Code(NamedTuple):
    """A documented diagnostic code."""

    code: str
    name: str
    summary: str


CODES: dict[str, Code] = {
    c.code: c
    for c in [
        Code("BS001", "file-unreadable", "A path does not exist or cannot be read."),
        Code("BS002", "yaml-syntax", "The file is not valid YAML."),
        Code("BS003", "duplicate-key", "A mapping has the same key twice."),
        Code("BS004", "unsafe-tag", "A YAML tag that would build objects (never executed)."),
        Code("BS005", "file-too-large", "A spec file is larger than the limit."),
        Code("BS006", "not-text", "A file is binary or not UTF-8."),
        Code("BS007", "empty-file", "A file has no YAML documents."),
        Code("BS008", "not-a-mapping", "A document is not a mapping."),
        Code("BS009", "too-complex", "Aliases or nesting expand beyond the limit."),
        Code("BS010", "no-specs", "The paths given hold no spec files."),
        Code("BS100", "api-version", "Unknown apiVersion or kind."),
        Code("BS101", "unknown-key", "A key the spec language does not have."),
        Code("BS102", "missing-key", "A required key is missing."),
        Code("BS103", "wrong-type", "A value of the wrong type."),
        Code("BS104", "invalid-value", "A value outside the allowed set."),
        Code("BS105", "out-of-range", "A number or list outside its bounds."),
        Code(
            "BS201", "job-name-invalid", "Job names: letters, digits, underscores; a letter first."
        ),
        Code("BS202", "job-name-too-long", "Job names are at most 128 characters."),
        Code("BS203", "job-name-duplicate", "Job names are unique across all specs."),
        Code("BS210", "region-missing", "Cloud targets need a region."),
        Code("BS211", "region-not-allowed", "The target does not run batch jobs in that region."),
        Code("BS220", "format-not-supported", "The target does not read or write that format."),
        Code(
            "BS221",
            "format-for-model",
            "The model family does not take that format (Gemini and partner models: JSONL or"
            " BigQuery; Gemini: one file).",
        ),
        Code("BS230", "input-location", "Exactly one input location: paths or bigquery."),
        Code("BS231", "input-path-scheme", "Cloud targets read from Cloud Storage (gs://)."),
        Code(
            "BS232",
            "input-wildcard",
            "A wildcard the reader does not understand (ML Engine and the local engine: one"
            " `*` at the end; Vertex AI: Cloud Storage wildcards).",
        ),
        Code("BS233", "instance-config", "Key and field selection that cannot work."),
        Code(
            "BS234",
            "storage-uri",
            "A Cloud Storage URI that breaks Cloud Storage's bucket or object naming rules.",
        ),
        Code(
            "BS236",
            "bigquery-uri",
            "A BigQuery URI whose project, dataset or table name is malformed, or too long.",
        ),
        Code(
            "BS237",
            "gemini-input",
            "Gemini Developer API inputs: inline requests, Files API names, the API key variable.",
        ),
        Code("BS240", "output-location", "Exactly one output location: path or bigquery."),
        Code("BS241", "output-path-scheme", "Cloud targets write to gs:// or bq://."),
        Code("BS250", "model-ways", "Exactly one way to name the model."),
        Code("BS251", "model-not-for-target", "The target cannot use a model named that way."),
        Code("BS252", "version-without-name", "A model version needs a model name."),
        Code("BS253", "ignored-by-target", "A setting the target's service ignores or overrides."),
        Code("BS254", "model-reference", "A model name or resource that is malformed."),
        Code("BS257", "explanation", "Explanation settings the model or formats cannot serve."),
        Code("BS260", "labels-invalid", "Labels that the target's label rules reject."),
        Code("BS261", "project-missing", "Cloud targets need a project."),
        Code("BS262", "project-id", "A project that is not a project id or number."),
        Code("BS263", "service-account", "A service account that is not an email address."),
        Code(
            "BS264",
            "kms-key",
            "An encryption key that is not a full Cloud KMS key name in the job's region.",
        ),
        Code("BS265", "display-name", "A display name the service refuses (empty, too long)."),
        Code("BS270", "resources", "Resources the target cannot use as given."),
        Code(
            "BS271",
            "accelerator",
            "A machine type and accelerator that do not go together (Compute Engine's GPU tables).",
        ),
        Code("BS280", "pickle-unpinned", "Unpickling runs code: pin the model file's sha256."),
        Code("BS285", "secret-reference", "A `${env:NAME}` reference that is malformed."),
        Code(
            "BS286",
            "secret-reference-place",
            "A `${env:NAME}` reference where no secret may stand.",
        ),
        Code("BS290", "policy", "A job policy that cannot work."),
        Code("BS291", "schedule", "A schedule whose cron expression or deadline does not parse."),
        Code("BS292", "time-zone", "A schedule's time zone that is not an IANA zone."),
        Code("BS293", "run-variable", "An unknown run variable, or one where runs cannot vary."),
        Code(
            "BS294", "runs-overwrite", "Runs of a recurring spec that would share an output path."
        ),
        Code("BS295", "target-retired", "The target's service was shut down (ML Engine)."),
        Code(
            "BS300",
            "not-for-target",
            "The spec is valid for its own target but breaks a rule of the requested one.",
        ),
        Code(
            "BS301",
            "not-expressible",
            "A setting the target's API cannot carry; compiling would drop it.",
        ),
        Code(
            "BS302",
            "model-location",
            "A Vertex model in another location than the job, or a Model resource in `global`.",
        ),
        Code("BS303", "not-json", "A free-form value JSON cannot carry (NaN, infinity, dates)."),
        Code("BS304", "body-schema", "A compiled body that breaks the service's API schema."),
        Code(
            "BS400",
            "model-name-invalid",
            "Model names: letters, digits, underscores; a letter first.",
        ),
        Code("BS401", "model-name-duplicate", "Model names are unique among Model documents."),
        Code(
            "BS402",
            "model-ref-dangling",
            "A `ref` names no Model document, or one with errors.",
        ),
        Code("BS403", "model-ref-cycle", "parentModel references go round in a circle."),
        Code("BS404", "model-id", "A model id or parent model the service refuses."),
        Code("BS405", "model-container", "A serving container spec the service refuses."),
        Code("BS406", "model-artifact", "A model artifact URI that is not a Cloud Storage folder."),
        Code("BS407", "version-alias", "A version alias the service refuses, or batchspec's own."),
        Code("BS408", "model-local", "Local run settings that cannot work."),
        Code(
            "BS409",
            "model-not-uploaded-here",
            "A job runs a Model document this tool does not upload (`batchspec apply` does).",
        ),
        Code(
            "BS500",
            "no-container-engine",
            "No docker or podman daemon answers: the image cannot run on this machine.",
        ),
        Code(
            "BS501",
            "input-not-json-lines",
            "The program read an input file as one JSON document; it holds one per line.",
        ),
        Code(
            "BS502",
            "output-not-json-lines",
            "The program wrote one JSON document, not one prediction per line.",
        ),
        Code(
            "BS503",
            "key-field-removed",
            "The model looked for the key field, which is removed before it sees an instance.",
        ),
        Code(
            "BS504",
            "fixed-paths",
            "The program used fixed paths instead of the contract's variables.",
        ),
        Code(
            "BS505",
            "missing-dependency",
            "A module or shared library the program needs is not installed (in the image).",
        ),
        Code("BS506", "out-of-memory", "The program was killed for memory, near its limit."),
        Code("BS507", "hung", "The program used no CPU and wrote nothing for the hang timeout."),
        Code("BS508", "never-healthy", "The model server never answered its health route."),
        Code("BS509", "exited-at-start", "The container or server exited before it was healthy."),
        Code(
            "BS510",
            "bad-answer",
            "An answer breaks the prediction contract: its instances fail, within the budget.",
        ),
        Code("BS511", "program-failed", "The program failed for a cause batchspec cannot name."),
    ]
}
