-- Owner alert channels (issue 18): admin alerts also go to a Telegram chat (bot token + chat id)
-- and a Discord channel (webhook address), each with the alert kinds it hears (comma-separated
-- stored kinds). Secrets are sealed with the panel secret (v1: ChaCha20-Poly1305). Their
-- messages travel through the outbox, so `deliveries.channel` gains 'telegram' and 'discord'
-- (SQLite cannot alter a CHECK: the table is rebuilt with its rows and index). Times epoch ms.

CREATE TABLE alert_channels (
    channel     TEXT   PRIMARY KEY CHECK (channel IN ('telegram', 'discord')),
    secret_enc  TEXT   NOT NULL,
    chat_id     TEXT   NOT NULL DEFAULT '',
    kinds       TEXT   NOT NULL DEFAULT '',
    updated_at  BIGINT NOT NULL
);

CREATE TABLE deliveries_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id  BIGINT  NOT NULL,
    user_id          BIGINT  NOT NULL,
    channel          TEXT    NOT NULL CHECK (channel IN ('email', 'webhook', 'telegram', 'discord')),
    target           TEXT    NOT NULL,
    subject          TEXT    NOT NULL DEFAULT '',
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_at          BIGINT  NOT NULL,
    last_error       TEXT,
    created_at       BIGINT  NOT NULL,
    finished_at      BIGINT,
    UNIQUE (notification_id, channel)
);
INSERT INTO deliveries_new (id, notification_id, user_id, channel, target, subject, payload, status,
                            attempts, next_at, last_error, created_at, finished_at)
    SELECT id, notification_id, user_id, channel, target, subject, payload, status,
           attempts, next_at, last_error, created_at, finished_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE status = 'pending';
