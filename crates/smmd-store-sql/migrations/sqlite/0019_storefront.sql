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
