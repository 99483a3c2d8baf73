-- PostgreSQL's 0036 builds an order's public reference from its id inside `smmd_place_orders`
-- (`smmd_domain::reference`). On SQLite every path that inserts an order knows its id first and
-- builds the reference in the application: nothing to change here.
SELECT 1;
