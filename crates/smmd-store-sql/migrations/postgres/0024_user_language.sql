-- The language a user reads pages and e-mails in (`en`, `es`, `ru`, `ar`); NULL: the
-- browser's (Accept-Language).
ALTER TABLE users ADD COLUMN language TEXT;
