-- PostgreSQL's 0037 adds `smmd_feed_horizon()`, the live feed's horizon of one database. SQLite
-- commits one writer at a time and reads its feed by id: nothing to change here.
SELECT 1;
