-- Provider status pushes (issue 20): the per-provider signing secret (sealed with the panel
-- secret; '' = pushes not accepted), when the last accepted push arrived (epoch ms), and the
-- delivery ids already applied (a repeat is acknowledged and changes nothing).
ALTER TABLE providers ADD COLUMN push_secret_enc TEXT NOT NULL DEFAULT '';
ALTER TABLE providers ADD COLUMN push_at BIGINT;
CREATE TABLE provider_pushes (
    provider_id BIGINT NOT NULL,
    delivery    TEXT   NOT NULL,
    order_id    BIGINT,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (provider_id, delivery)
);
