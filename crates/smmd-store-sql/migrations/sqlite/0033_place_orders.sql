-- PostgreSQL's 0033 adds `smmd_place_orders`, its group commit of order placement in one
-- statement. SQLite's group commit runs the same statements from the application, on the
-- writer's own connection (`crates/smmd-store-sql/src/orders/group.rs`): nothing to add here.
SELECT 1;
