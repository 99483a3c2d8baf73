-- The storefront (issue 18): the brand an admin sets (name, tagline, colour, logo) as named
-- values, and the pages an admin writes (terms, faq, contact; Markdown, rendered without raw
-- HTML). Times are epoch ms. A missing value means the default (the configured panel name, the
-- built-in colour, no logo); a missing page is not shown.
CREATE TABLE site_settings (
    name        TEXT   PRIMARY KEY,
    value       TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE TABLE site_pages (
    slug        TEXT   PRIMARY KEY,
    title       TEXT   NOT NULL,
    body        TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Service ratings: one per order (its owner, once it was delivered), 1–5 stars and an optional
-- comment. status: approved (counted and shown) | pending (a comment waiting for an admin) |
-- rejected. Times are epoch ms; moderated_by is the deciding admin.
CREATE TABLE service_ratings (
    order_id      BIGINT  PRIMARY KEY,
    service_id    BIGINT  NOT NULL,
    user_id       BIGINT  NOT NULL,
    stars         INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    comment       TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at    BIGINT  NOT NULL,
    moderated_at  BIGINT,
    moderated_by  BIGINT
);
CREATE INDEX service_ratings_service ON service_ratings (service_id, status);
CREATE INDEX service_ratings_status ON service_ratings (status, created_at);
