-- The durable scheduler (docs/scheduler.md). Times: BIGINT epoch ms (UTC).

CREATE TABLE schedules (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    expr           TEXT    NOT NULL,
    zone           TEXT    NOT NULL,
    enabled        BIGINT  NOT NULL DEFAULT 1,
    misfire        TEXT    NOT NULL CHECK (misfire IN ('skip', 'fire_once', 'fire_all')),
    grace_ms       BIGINT  NOT NULL CHECK (grace_ms >= 0),
    catch_up_ms    BIGINT  NOT NULL CHECK (catch_up_ms >= 0),
    overlap        TEXT    NOT NULL CHECK (overlap IN ('skip', 'buffer_one')),
    max_attempts   BIGINT  NOT NULL CHECK (max_attempts >= 1),
    retry_base_ms  BIGINT  NOT NULL CHECK (retry_base_ms >= 0),
    timeout_ms     BIGINT  NOT NULL CHECK (timeout_ms > 0),
    -- The cursor: the next nominal tick not yet accounted for (F1 compare-and-swap target).
    next_run_at    BIGINT,
    version        BIGINT  NOT NULL DEFAULT 1,
    updated_at     BIGINT  NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE enabled = 1;

CREATE TABLE schedule_runs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id       BIGINT  NOT NULL REFERENCES schedules (id),
    scheduled_for     BIGINT  NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('tick', 'manual')),
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'timed_out',
                                                        'abandoned', 'skipped')),
    reason            TEXT,
    attempt           BIGINT  NOT NULL DEFAULT 0,
    not_before        BIGINT  NOT NULL,
    lease_owner       TEXT,
    -- Fencing token: bumped on every start; heartbeats and completions must present it.
    lease_token       BIGINT  NOT NULL DEFAULT 0,
    lease_expires_at  BIGINT,
    started_at        BIGINT,
    finished_at       BIGINT,
    error             TEXT,
    counters          TEXT,
    -- "Run now": the caller's request key, so the same request never makes two runs (F11).
    request_key       TEXT    UNIQUE,
    created_at        BIGINT  NOT NULL
);
-- F1: exactly one run row per (schedule, nominal tick). Manual runs are unique by request key.
CREATE UNIQUE INDEX schedule_runs_one_per_tick ON schedule_runs (schedule_id, scheduled_for) WHERE kind = 'tick';
-- F2: at most one running run per schedule, enforced by the database.
CREATE UNIQUE INDEX schedule_runs_one_running ON schedule_runs (schedule_id) WHERE state = 'running';
CREATE INDEX schedule_runs_pending ON schedule_runs (not_before, id) WHERE state = 'pending';
CREATE INDEX schedule_runs_leases ON schedule_runs (lease_expires_at) WHERE state = 'running';
CREATE INDEX schedule_runs_history ON schedule_runs (schedule_id, id);

-- Every change to a schedule, with the acting admin (F11).
CREATE TABLE schedule_audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id  BIGINT  REFERENCES schedules (id),
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX schedule_audit_schedule ON schedule_audit (schedule_id, id);

-- Scheduler-wide switches ("pause all").
CREATE TABLE scheduler_settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
