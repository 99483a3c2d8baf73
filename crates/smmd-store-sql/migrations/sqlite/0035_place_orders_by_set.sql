-- PostgreSQL's 0035 rewrites `smmd_place_orders` (0033) to decide a batch's orders first and
-- write them by sets. SQLite's group commit runs its statements from the application
-- (`crates/smmd-store-sql/src/orders/group`): nothing to change here.
SELECT 1;
