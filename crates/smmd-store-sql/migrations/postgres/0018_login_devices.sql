-- Device cookies users logged in with (issue 17, docs/affiliates.md): the self-referral check
-- flags a sign-up from a browser the affiliate logged in from lately. One row per user and
-- device (an opaque random token the pages set), its last time in epoch ms.
-- maintenance.cleanup prunes these and the log-in addresses once the check no longer reads them.
CREATE TABLE login_devices (
    user_id  BIGINT NOT NULL REFERENCES users (id),
    device   TEXT   NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (user_id, device)
);
CREATE INDEX login_devices_at ON login_devices (at);
CREATE INDEX login_addresses_at ON login_addresses (at);
