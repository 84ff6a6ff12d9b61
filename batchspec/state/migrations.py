"""The state schema as numbered migrations.

The schema version lives in SQLite's `user_version`; the file is marked as
batchspec's with `application_id`, so opening some other SQLite file is a
clear error instead of a silent mess. Migration N takes a store from version
N-1 to N inside one transaction. Released migrations are never edited: a
change to the schema is a new, higher-numbered migration (and a test that
opens a file of the previous version).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

APPLICATION_ID = 0x42535043  # "BSPC"


@dataclass(frozen=True)
class Migration:
    """One step of the schema: `sql` takes version `number - 1` to `number`."""

    number: int
    description: str
    sql: str


_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per compiled revision of a spec: what a fingerprint stands for.
CREATE TABLE revisions (
    fingerprint TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    target      TEXT NOT NULL,
    body        TEXT NOT NULL,   -- canonical JSON, secrets redacted
    spec        TEXT NOT NULL,   -- the spec document as JSON, secrets redacted
    policy      TEXT NOT NULL,
    source      TEXT,
    created_at  TEXT NOT NULL
);

-- Every job name ever used, spec names and remote names alike (ML Engine:
-- a name is unique among all jobs ever created in the project).
CREATE TABLE names (
    kind          TEXT NOT NULL CHECK (kind IN ('spec', 'remote')),
    backend       TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL,
    first_used_at TEXT NOT NULL,
    last_used_at  TEXT NOT NULL,
    PRIMARY KEY (kind, backend, name)
) WITHOUT ROWID;

CREATE TABLE jobs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT NOT NULL,
    fingerprint         TEXT NOT NULL REFERENCES revisions(fingerprint),
    submit_key          TEXT NOT NULL,
    attempt             INTEGER NOT NULL,
    retry               INTEGER NOT NULL DEFAULT 0,
    target              TEXT NOT NULL,
    backend             TEXT NOT NULL,
    phase               TEXT NOT NULL CHECK (phase IN ('intent', 'submitted')),
    state               TEXT,
    disposition         TEXT NOT NULL
        CHECK (disposition IN ('current', 'superseded', 'removed', 'forgotten')),
    remote_name         TEXT,
    source              TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    submitted_at        TEXT,
    started_at          TEXT,
    ended_at            TEXT,
    completed_count     INTEGER NOT NULL DEFAULT 0,
    failed_count        INTEGER NOT NULL DEFAULT 0,
    total_count         INTEGER,
    output_location     TEXT,
    error               TEXT,
    cancel_reason       TEXT,
    cancel_requested_at TEXT,
    missing_since       TEXT,
    manifest_sha256     TEXT
);
-- At most one current job per spec name.
CREATE UNIQUE INDEX jobs_current ON jobs(name) WHERE disposition = 'current';
-- A submit key (the fingerprint label) is used for exactly one job: the
-- database itself refuses a second submission of the same attempt.
CREATE UNIQUE INDEX jobs_submit_key ON jobs(backend, submit_key);
CREATE UNIQUE INDEX jobs_remote ON jobs(backend, remote_name) WHERE remote_name IS NOT NULL;
CREATE INDEX jobs_fingerprint ON jobs(fingerprint);
CREATE INDEX jobs_disposition ON jobs(disposition, state);

-- Every event in every job's life.
CREATE TABLE transitions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     INTEGER NOT NULL REFERENCES jobs(id),
    name       TEXT NOT NULL,
    event      TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT,
    reason     TEXT,
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX transitions_name ON transitions(name, id);
CREATE INDEX transitions_job ON transitions(job_id, id);

-- Drift findings; the same finding seen again updates last_seen.
CREATE TABLE drift (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    name        TEXT,
    job_id      INTEGER,
    backend     TEXT,
    remote_name TEXT,
    detail      TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    times_seen  INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX drift_last_seen ON drift(last_seen);

-- The controller lease: one row while someone holds it.
CREATE TABLE lease (
    name         TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL,
    owner        TEXT NOT NULL,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    command      TEXT NOT NULL,
    acquired_at  TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) WITHOUT ROWID;

-- Things done to the store itself: leases broken or taken over, migrations.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    message TEXT NOT NULL
);
"""

_V2_RUNS = """
-- Recurring specs (spec.schedule, spec.trigger): each run is a job row of its
-- own, told apart by its run key (the tick's UTC time, or inputs-<digest>).
ALTER TABLE jobs ADD COLUMN run_key TEXT;
ALTER TABLE jobs ADD COLUMN scheduled_at TEXT;
ALTER TABLE jobs ADD COLUMN inputs_digest TEXT;
CREATE INDEX jobs_run ON jobs(name, run_key) WHERE run_key IS NOT NULL;

-- One row per recurring spec: from when its ticks count, the latest tick
-- decided, the input snapshot last run, the revision last declared, and the
-- last failure to list inputs.
CREATE TABLE schedules (
    name          TEXT PRIMARY KEY,
    since         TEXT NOT NULL,
    cursor        TEXT,
    inputs_digest TEXT,
    fingerprint   TEXT,
    error         TEXT,
    error_at      TEXT,
    errors        INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;

-- Every tick decided: run (with its first job), missed (past startingDeadline
-- or not caught up) or skipped (concurrency Forbid, Replace, unchanged inputs).
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    run_key       TEXT NOT NULL,
    scheduled_at  TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('run', 'missed', 'skipped')),
    reason        TEXT,
    fingerprint   TEXT,
    inputs_digest TEXT,
    job_id        INTEGER REFERENCES jobs(id),
    decided_at    TEXT NOT NULL,
    UNIQUE (name, run_key)
);
CREATE INDEX runs_name ON runs(name, scheduled_at);
"""

_MODELS = """
-- One row per upload of a Model document's revision (an upload again after
-- the version was deleted outside batchspec is a new row). The exactly-once
-- protocol for models.upload: 'intent' is written before the call,
-- 'uploading' once the long-running operation's name is known, 'uploaded'
-- when the version exists ('failed' when the operation failed).
CREATE TABLE models (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    location      TEXT NOT NULL,   -- projects/P/locations/L
    model_id      TEXT NOT NULL,   -- the model the version goes under
    alias         TEXT NOT NULL,   -- the revision's version alias
    phase         TEXT NOT NULL CHECK (phase IN ('intent', 'uploading', 'uploaded', 'failed')),
    disposition   TEXT NOT NULL CHECK (disposition IN ('current', 'superseded', 'forgotten')),
    operation     TEXT,
    resource      TEXT,            -- projects/P/locations/L/models/ID@VERSION, once uploaded
    body          TEXT NOT NULL,   -- the upload request, canonical JSON, secrets redacted
    spec          TEXT NOT NULL,   -- the Model document as JSON, secrets redacted
    source        TEXT,
    error         TEXT,
    missing_since TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    uploaded_at   TEXT
);
CREATE UNIQUE INDEX models_current ON models(name) WHERE disposition = 'current';
CREATE INDEX models_fingerprint ON models(fingerprint);

-- Every event in every model upload's life.
CREATE TABLE model_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id INTEGER NOT NULL REFERENCES models(id),
    name     TEXT NOT NULL,
    event    TEXT NOT NULL,
    detail   TEXT,
    actor    TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX model_events_name ON model_events(name, id);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _V1),
    Migration(2, "recurring runs: run keys, schedules, runs", _V2_RUNS),
    Migration(3, "uploaded models (kind: Model)", _MODELS),
)


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version this batchspec writes."""
    return max((m.number for m in migrations), default=0)


def check_sequence(migrations: Sequence[Migration]) -> None:
    """Migrations must be numbered 1, 2, 3... with no gap (a programming error)."""
    numbers = [m.number for m in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"migrations must be numbered 1..N without gaps, got {numbers}")
