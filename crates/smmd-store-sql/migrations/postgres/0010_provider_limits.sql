-- Hostile providers (issue 15): per-provider caps on the size of an answer (bytes; `services`
-- has its own, larger cap) and the factor (percent, 200 = x2, up or down) beyond which a
-- services sync holds a rate change for the admin's approval.
ALTER TABLE providers ADD COLUMN answer_max_bytes BIGINT NOT NULL DEFAULT 1048576;
ALTER TABLE providers ADD COLUMN services_max_bytes BIGINT NOT NULL DEFAULT 16777216;
ALTER TABLE providers ADD COLUMN price_jump_pct BIGINT NOT NULL DEFAULT 200;
