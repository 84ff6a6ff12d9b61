"""Reading jobs, revisions and names: what plans, status and drift need."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from batchspec.errors import StateError
from batchspec.state.base import TERMINAL_VALUES, StoreBase, decode_time
from batchspec.state.connection import damaged_hint
from batchspec.state.records import JobRecord, RevisionRecord, StateSnapshot


class JobQueries(StoreBase):
    """Read-only queries over jobs, revisions and names."""

    def current_jobs(self) -> dict[str, JobRecord]:
        """Spec name -> the job that currently stands for it."""
        return {j.name: j for j in self._jobs("WHERE disposition = 'current' ORDER BY name")}

    def followed_jobs(self) -> list[JobRecord]:
        """Jobs still worth observing: not forgotten and not ended (or not yet submitted)."""
        marks = ",".join("?" * len(TERMINAL_VALUES))
        return self._jobs(
            f"WHERE disposition != 'forgotten' AND (state IS NULL OR state NOT IN ({marks}))"
            " ORDER BY id",
            TERMINAL_VALUES,
        )

    def tracked_jobs(self) -> list[JobRecord]:
        """Every job not forgotten, ended or not (drift looks at both)."""
        return self._jobs("WHERE disposition != 'forgotten' ORDER BY id")

    def all_jobs(self, *, name: str | None = None) -> list[JobRecord]:
        """Every job ever recorded (optionally for one name), oldest first."""
        if name is None:
            return self._jobs("ORDER BY id")
        return self._jobs("WHERE name = ? ORDER BY id", (name,))

    def find_job(self, ref: str) -> JobRecord | None:
        """Resolve what a user typed: a spec name, a remote name, or `#ID`."""
        if ref.startswith("#") and ref[1:].isdigit():
            rows = self._jobs("WHERE id = ?", (int(ref[1:]),))
            return rows[0] if rows else None
        rows = self._jobs("WHERE name = ? AND disposition = 'current'", (ref,))
        if rows:
            return rows[0]
        rows = self._jobs("WHERE name = ? ORDER BY id DESC LIMIT 1", (ref,))
        if rows:
            return rows[0]
        rows = self._jobs("WHERE remote_name = ? ORDER BY id DESC LIMIT 1", (ref,))
        return rows[0] if rows else None

    def remote_names(self) -> set[tuple[str, str]]:
        """(backend, remote name) of every job ever recorded, forgotten ones included."""
        return {
            (row[0], row[1])
            for row in self._conn.execute(
                "SELECT backend, remote_name FROM jobs WHERE remote_name IS NOT NULL"
            )
        }

    def tracked_backends(self) -> set[str]:
        """Backends of every job not forgotten."""
        return {
            row[0]
            for row in self._conn.execute(
                "SELECT DISTINCT backend FROM jobs WHERE disposition != 'forgotten'"
            )
        }

    def job_by_submit_key(self, backend: str, submit_key: str) -> JobRecord | None:
        """The job submitted (or about to be) under this key, if any."""
        rows = self._jobs("WHERE backend = ? AND submit_key = ?", (backend, submit_key))
        return rows[0] if rows else None

    def next_attempt(self, fingerprint: str) -> int:
        """The attempt number the next job of this revision gets (1 for the first)."""
        row = self._conn.execute(
            "SELECT COALESCE(MAX(attempt), 0) + 1 FROM jobs WHERE fingerprint = ?",
            (fingerprint,),
        ).fetchone()
        return int(row[0])

    def state_hash(self) -> str:
        """A digest of every job row's identity and standing (not its counters).

        A saved plan records it; apply recomputes it and refuses the plan when
        any job was added, submitted, changed state or disposition since.
        """
        digest = hashlib.sha256()
        for row in self._conn.execute(
            "SELECT id, name, fingerprint, submit_key, phase, state, disposition,"
            " remote_name, cancel_reason FROM jobs ORDER BY id"
        ):
            digest.update(json.dumps(row, separators=(",", ":")).encode())
            digest.update(b"\n")
        return digest.hexdigest()

    def snapshot(self) -> StateSnapshot:
        """What the planner needs, read consistently."""
        with self._read():
            current = self.current_jobs()
            followed = self.followed_jobs()
            names = frozenset(
                row[0] for row in self._conn.execute("SELECT name FROM names WHERE kind = 'spec'")
            )
            return StateSnapshot(
                current=current,
                followed=followed,
                hash=self.state_hash(),
                lineage=self.lineage,
                serial=self.serial,
                names_used=names,
            )

    def revision(self, fingerprint: str) -> RevisionRecord | None:
        """The recorded revision with this fingerprint."""
        found = self.revisions([fingerprint])
        return found.get(fingerprint)

    def revisions(self, fingerprints: Iterable[str]) -> dict[str, RevisionRecord]:
        """Several revisions at once (for plan diffs)."""
        wanted = list(dict.fromkeys(fingerprints))
        out: dict[str, RevisionRecord] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                "SELECT fingerprint, name, target, body, spec, policy, source, created_at"
                f" FROM revisions WHERE fingerprint IN ({marks})",
                chunk,
            ):
                where = f"revision {str(row[0])[:12]}"
                out[row[0]] = RevisionRecord(
                    fingerprint=row[0],
                    name=row[1],
                    target=row[2],
                    body=self._json(row[3], f"{where} body"),
                    spec=self._json(row[4], f"{where} spec"),
                    policy=self._json(row[5], f"{where} policy"),
                    source=row[6],
                    created_at=decode_time(row[7], f"{where} created_at", self.path),  # type: ignore[arg-type]
                )
        return out

    def _json(self, text: Any, what: str) -> Any:
        try:
            return json.loads(text)
        except (TypeError, ValueError):
            raise StateError(
                f"state file {self.path} holds {what} that is not JSON",
                hint=damaged_hint(self.path),
            ) from None

    def names_used(self, kind: str = "spec") -> list[tuple[str, str, datetime]]:
        """(backend, name, first used) for every name of that kind ever used."""
        return [
            (row[0], row[1], decode_time(row[2], f"name {row[1]!r} first use", self.path))  # type: ignore[misc]
            for row in self._conn.execute(
                "SELECT backend, name, first_used_at FROM names WHERE kind = ? ORDER BY name",
                (kind,),
            )
        ]
