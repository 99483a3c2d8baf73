-- Dispatch claims walk queued orders in id order: only those with a provider can be claimed,
-- so only those are indexed. Queued orders of services without a provider (sold by hand)
-- no longer make every claim scan them all while it holds the writer (issue 20, `add` bench).
DROP INDEX orders_dispatch;
CREATE INDEX orders_dispatch ON orders (id) WHERE status = 'queued' AND provider_id IS NOT NULL;
