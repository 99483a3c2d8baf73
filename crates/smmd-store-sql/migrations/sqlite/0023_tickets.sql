-- Support tickets (issue 18): a customer's ticket (topic, subject, the orders it names as a
-- comma-separated list of their ids, state open|waiting|closed), its thread (messages of the
-- customer and the admins, and admins' internal notes), how far each side read it (message
-- ids: unread = the other side's last message is past it), and the admins' canned replies.
-- Booleans are 0/1; times epoch ms.

CREATE TABLE tickets (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           BIGINT NOT NULL REFERENCES users (id),
    topic             TEXT   NOT NULL CHECK (topic IN ('order', 'payment', 'refill', 'other')),
    subject           TEXT   NOT NULL,
    status            TEXT   NOT NULL CHECK (status IN ('open', 'waiting', 'closed')),
    order_ids         TEXT   NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    last_customer_msg BIGINT NOT NULL DEFAULT 0,
    last_admin_msg    BIGINT NOT NULL DEFAULT 0,
    customer_seen_msg BIGINT NOT NULL DEFAULT 0,
    admin_seen_msg    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tickets_user ON tickets (user_id, id);
CREATE INDEX tickets_status ON tickets (status, id);

CREATE TABLE ticket_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    author_id   BIGINT,
    author      TEXT   NOT NULL,
    from_admin  BIGINT NOT NULL DEFAULT 0,
    internal    BIGINT NOT NULL DEFAULT 0,
    body        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

CREATE TABLE canned_replies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT   NOT NULL,
    body        TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL
);
