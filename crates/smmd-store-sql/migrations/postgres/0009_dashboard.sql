-- The admin dashboard: orders placed today, and each service's last completed orders (the
-- new-order page's average completion time per 1000).
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX orders_completed ON orders (service_id, completed_at) WHERE status = 'completed';
