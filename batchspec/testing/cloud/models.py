"""The REST double's Vertex AI model registry: `models.upload` and its
long-running operation, `models.get` (by version id or alias), `list`,
`listVersions`, `delete`, `deleteVersion`, and `models.operations.get|list`.

How it behaves, and why (the aiplatform v1 discovery document's
descriptions, and what batchspec must survive):

* An upload answers at once with an unfinished operation named under the
  model (`projects/P/locations/L/models/ID/operations/N`); the version
  exists only once the operation is done, which happens after
  `upload_reads` reads of the operation (or `finish_uploads()`). So a
  client that lost the upload's answer cannot find the version by listing
  until the operation ends: it has to wait for the model's unfinished
  operations first, as batchspec does.
* `modelId` names a new model (409 ALREADY_EXISTS when it exists or is
  being uploaded); `parentModel` adds a version (404 when there is no such
  model); neither gives a numeric id.
* The first version of a model gets the `default` alias; aliases are unique
  within a model, so a new version's aliases move from older versions.
* `get` takes `ID`, `ID@VERSION` or `ID@ALIAS`; no version: the default one.
* Deleting the only version, or the default one, is refused (the service
  says to delete the model instead, or move `default` first).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from batchspec.testing.cloud.jobs import AnswerError, now
from batchspec.testing.cloud.listing import filter_matches, page

TYPES = "type.googleapis.com/google.cloud.aiplatform.v1."
_MODEL_FIELDS = (
    "displayName",
    "description",
    "versionDescription",
    "containerSpec",
    "artifactUri",
    "labels",
    "encryptionSpec",
)


@dataclass
class StoredModel:
    """A model and its versions (each a full Model resource)."""

    name: str
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_version: int = 1

    def alias_owner(self, alias: str) -> str | None:
        """The version id holding `alias`."""
        for vid, version in self.versions.items():
            if alias in version.get("versionAliases", []):
                return vid
        return None

    def default(self) -> dict[str, Any]:
        """The version holding the `default` alias."""
        owner = self.alias_owner("default")
        assert owner is not None, "a model always has a default version"
        return self.versions[owner]


@dataclass
class StoredOperation:
    """An upload's long-running operation and the version it publishes."""

    name: str
    model: str
    version: dict[str, Any]
    created: str
    done: bool = False
    reads: int = 0
    error: dict[str, Any] | None = None

    def resource(self) -> dict[str, Any]:
        """The operation as REST JSON."""
        out: dict[str, Any] = {
            "name": self.name,
            "metadata": {
                "@type": TYPES + "UploadModelOperationMetadata",
                "genericMetadata": {"createTime": self.created, "updateTime": now()},
            },
            "done": self.done,
        }
        if self.done and self.error is not None:
            out["error"] = self.error
        elif self.done:
            out["response"] = {
                "@type": TYPES + "UploadModelResponse",
                "model": self.model,
                "modelVersionId": self.version["versionId"],
            }
        return out


class ModelRegistry:
    """The model half of `CloudDouble` (mixed in; needs `_lock`)."""

    models: dict[str, StoredModel]
    operations: dict[str, StoredOperation]
    upload_reads: int
    failing_uploads: list[str]

    def _model_ids(self) -> itertools.count[int]:
        counter: itertools.count[int] | None = getattr(self, "_model_counter", None)
        if counter is None:
            counter = itertools.count(5_000_000_000_000_000_001, 104_729)
            self._model_counter = counter
        return counter

    # --- test controls -------------------------------------------------------------

    def finish_uploads(self) -> None:
        """End every unfinished upload now."""
        for op in list(self.operations.values()):
            if not op.done:
                self._complete(op)

    def delete_model_from_outside(self, name: str) -> None:
        """Delete a model, or one version (`ID@VERSION|ALIAS`), behind batchspec's back."""
        base, _, version = name.partition("@")
        model = self._model(base)
        if not version:
            del self.models[base]
            return
        vid = self._version_id(model, version)
        del model.versions[vid]
        if not model.versions:
            del self.models[base]
        elif model.alias_owner("default") is None:
            newest = max(model.versions, key=int)
            model.versions[newest].setdefault("versionAliases", []).append("default")

    def relabel_from_outside(self, name: str, labels: dict[str, str]) -> None:
        """Change a version's labels as `models.patch` from the console would."""
        base, _, version = name.partition("@")
        model = self._model(base)
        target = model.versions[self._version_id(model, version)] if version else model.default()
        target["labels"] = dict(labels)
        target["updateTime"] = now()

    def model_versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of a model (none when there is no such model)."""
        model = self.models.get(name)
        return list(model.versions.values()) if model else []

    def fail_next_upload(self, message: str) -> None:
        """The next upload's operation ends with an error (an image the service refuses)."""
        self.failing_uploads.append(message)

    # --- handling --------------------------------------------------------------------

    def _check_job_model(self, model: str) -> None:
        """A batch job naming a model version by alias needs that version to
        exist now (the service resolves the model when the job is created).
        Models named by numeric id are not checked: tests of jobs alone name
        models they never upload."""
        base, _, version = model.partition("@")
        if not version or version.isdigit():
            return
        found = self.models.get(base)
        if found is None or found.alias_owner(version) is None:
            raise AnswerError(400, f"Model {model} not found.", "INVALID_ARGUMENT")

    def _models_call(
        self, call: str, params: dict[str, str], body: Any, query: dict[str, str]
    ) -> Any:
        handlers = {
            "upload": lambda: self._upload(params["parent"], body),
            "get": lambda: self._get_model(params["name"]),
            "list": lambda: self._list_models(params, query),
            "listVersions": lambda: self._list_versions(params["name"], query),
            "delete": lambda: self._delete_model(params["name"]),
            "deleteVersion": lambda: self._delete_version(params["name"]),
        }
        if call in handlers:
            return handlers[call]()
        raise AnswerError(404, f"the double does not serve models.{call}")

    def _operations_call(self, call: str, params: dict[str, str]) -> Any:
        if call == "get":
            return self._read_operation(params["name"]).resource()
        if call == "list":
            self._model(params["name"])
            ops = [op.resource() for op in self.operations.values() if op.model == params["name"]]
            return {"operations": ops}
        raise AnswerError(404, f"the double does not serve models.operations.{call}")

    def _upload(self, parent: str, body: dict[str, Any]) -> dict[str, Any]:
        spec = body["model"]
        if body.get("parentModel"):
            name = body["parentModel"]
            if name not in self.models:
                raise AnswerError(404, f"parent model {name} not found")
        else:
            ident = body.get("modelId") or str(next(self._model_ids()))
            name = f"{parent}/models/{ident}"
            pending = any(op.model == name and not op.done for op in self.operations.values())
            if name in self.models or pending:
                raise AnswerError(409, f"Model with id {ident} already exists", "ALREADY_EXISTS")
            self.models[name] = StoredModel(name)
        model = self.models[name]
        vid = str(model.next_version)
        model.next_version += 1
        stamp = now()
        version = {k: spec[k] for k in _MODEL_FIELDS if k in spec}
        version.update(
            name=name,
            versionId=vid,
            versionAliases=list(spec.get("versionAliases", [])),
            createTime=stamp,
            updateTime=stamp,
            versionCreateTime=stamp,
            versionUpdateTime=stamp,
            etag=f"v{vid}",
        )
        op = StoredOperation(f"{name}/operations/{next(self._model_ids())}", name, version, stamp)
        if self.failing_uploads:
            op.error = {"code": 3, "message": self.failing_uploads.pop(0)}
        self.operations[op.name] = op  # no version shows until the operation is done
        return op.resource()

    def _complete(self, op: StoredOperation) -> None:
        op.done = True
        model = self.models.get(op.model)
        if op.error is not None or model is None:
            if model is not None and not model.versions:
                del self.models[op.model]
            return
        version = op.version
        first = not model.versions
        aliases = version["versionAliases"]
        if first and "default" not in aliases:
            aliases.insert(0, "default")
        for other in model.versions.values():  # aliases are unique within a model
            other["versionAliases"] = [
                a for a in other.get("versionAliases", []) if a not in aliases
            ]
        model.versions[version["versionId"]] = version

    def _read_operation(self, name: str) -> StoredOperation:
        op = self.operations.get(name)
        if op is None:
            raise AnswerError(404, f"operation {name} not found")
        op.reads += 1
        if not op.done and op.reads >= self.upload_reads:
            self._complete(op)
        return op

    def _get_model(self, name: str) -> dict[str, Any]:
        base, _, version = name.partition("@")
        model = self._model(base)
        if not model.versions:
            raise AnswerError(404, f"model {base} not found")
        if not version:
            return model.default()
        return model.versions[self._version_id(model, version)]

    def _model(self, name: str) -> StoredModel:
        model = self.models.get(name)
        if model is None:
            raise AnswerError(404, f"model {name} not found")
        return model

    def _version_id(self, model: StoredModel, version: str) -> str:
        if version in model.versions:
            return version
        owner = model.alias_owner(version)
        if owner is None:
            raise AnswerError(404, f"model {model.name} has no version or alias {version!r}")
        return owner

    def _list_models(self, params: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
        parent = params["parent"]
        found = [
            m.default()
            for m in self.models.values()
            if m.versions
            and m.name.startswith(parent + "/")
            and filter_matches(query.get("filter", ""), m.default())
        ]
        items, token = page(found, query, 50)
        return {"models": items, **({"nextPageToken": token} if token else {})}

    def _list_versions(self, name: str, query: dict[str, str]) -> dict[str, Any]:
        model = self._model(name)
        found = [v for v in model.versions.values() if filter_matches(query.get("filter", ""), v)]
        items, token = page(found, query, 50)
        return {"models": items, **({"nextPageToken": token} if token else {})}

    def _delete_model(self, name: str) -> dict[str, Any]:
        self._model(name)
        self.delete_model_from_outside(name)
        return self._done_operation(name)

    def _delete_version(self, name: str) -> dict[str, Any]:
        base, _, version = name.partition("@")
        model = self._model(base)
        vid = self._version_id(model, version)
        if len(model.versions) == 1:
            raise AnswerError(
                400, "Deleting the only version of a model is not allowed", "FAILED_PRECONDITION"
            )
        if "default" in model.versions[vid].get("versionAliases", []):
            raise AnswerError(400, "the default version cannot be deleted", "FAILED_PRECONDITION")
        del model.versions[vid]
        return self._done_operation(base)

    def _done_operation(self, model: str) -> dict[str, Any]:
        return {
            "name": f"{model}/operations/{next(self._model_ids())}",
            "done": True,
            "response": {"@type": "type.googleapis.com/google.protobuf.Empty"},
        }


__all__ = ["ModelRegistry", "StoredModel", "StoredOperation"]
