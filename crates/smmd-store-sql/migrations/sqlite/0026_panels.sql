-- Hosted child panels (issue 19, docs/child-panels.md): the registry every instance reads to
-- know which panels it serves. A child is rented under a `child_panel` plan; its state is its
-- phase read with its rental's state, so a suspension or a payment writes nothing here.
CREATE TABLE panels (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id            BIGINT  NOT NULL REFERENCES users(id),
    rental_id           BIGINT  NOT NULL UNIQUE REFERENCES rentals(id),
    name                TEXT    NOT NULL,
    currency            TEXT    NOT NULL,
    -- The renter's default markup on the parent's prices, basis points (5000 = +50 %).
    markup_bp           BIGINT  NOT NULL,
    admin_email         TEXT    NOT NULL,
    -- argon2 hash of the password the renter chose for the child admin.
    admin_password_hash TEXT    NOT NULL,
    -- `sqlite:panels/7/smmd.db` (under the data directory) or `schema:panel_7`.
    storage             TEXT    NOT NULL,
    -- provisioning | ready | removed
    phase               TEXT    NOT NULL,
    -- The provisioning step that runs next (storage, admin, api_key, provider, catalog, start).
    step                TEXT    NOT NULL,
    error               TEXT,
    -- The renter's dedicated root API key: SHA-256 hex, and sealed with the root's secret.
    api_key_hash        TEXT    UNIQUE,
    api_key_enc         TEXT,
    -- The instance provisioning it now, until when (ms): one provisioner at a time.
    lease_holder        TEXT,
    lease_until         BIGINT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE INDEX panels_owner ON panels (owner_id, id);

-- Each hostname names one panel; a removed panel's names are freed.
CREATE TABLE panel_hosts (
    hostname TEXT   PRIMARY KEY,
    panel_id BIGINT NOT NULL REFERENCES panels(id),
    position INTEGER NOT NULL
);
CREATE INDEX panel_hosts_panel ON panel_hosts (panel_id, position);
