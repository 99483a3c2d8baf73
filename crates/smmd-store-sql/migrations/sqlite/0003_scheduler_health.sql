-- Scheduler health (F12) and the canary job.

-- When the schedule last had a successful run (epoch ms): the "no success within 2× interval"
-- signal and the jobs list read it without scanning history.
ALTER TABLE schedules ADD COLUMN last_success_at BIGINT;

-- `scheduler.canary`: one row per execution that still held its lease when it wrote (fenced).
-- No unique key on purpose: a duplicate execution would show up as a second row.
CREATE TABLE scheduler_canary (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id           BIGINT  NOT NULL,
    idempotency_key  TEXT    NOT NULL,
    scheduled_for    BIGINT  NOT NULL,
    attempt          BIGINT  NOT NULL,
    instance         TEXT    NOT NULL,
    started_at       BIGINT  NOT NULL,
    written_at       BIGINT  NOT NULL
);
CREATE INDEX scheduler_canary_key ON scheduler_canary (idempotency_key);
CREATE INDEX scheduler_canary_written ON scheduler_canary (written_at);
