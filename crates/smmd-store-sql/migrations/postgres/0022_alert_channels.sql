-- Owner alert channels (issue 18): admin alerts also go to a Telegram chat (bot token + chat id)
-- and a Discord channel (webhook address), each with the alert kinds it hears (comma-separated
-- stored kinds). Secrets are sealed with the panel secret (v1: ChaCha20-Poly1305). Their
-- messages travel through the outbox, so `deliveries.channel` gains 'telegram' and 'discord'.
-- Times epoch ms.

CREATE TABLE alert_channels (
    channel     TEXT   PRIMARY KEY CHECK (channel IN ('telegram', 'discord')),
    secret_enc  TEXT   NOT NULL,
    chat_id     TEXT   NOT NULL DEFAULT '',
    kinds       TEXT   NOT NULL DEFAULT '',
    updated_at  BIGINT NOT NULL
);

ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('email', 'webhook', 'telegram', 'discord'));
