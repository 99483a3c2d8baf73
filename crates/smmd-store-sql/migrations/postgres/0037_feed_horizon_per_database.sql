-- The live feed's horizon of this database (issue 20, provider webhooks; the flake of the push
-- chain's CI step): the oldest transaction in flight *that can write here*, where it was the
-- oldest in flight on the whole server (`pg_snapshot_xmin`). A transaction left open in another
-- database (another panel, another application, a test's `CREATE DATABASE`) held every panel's
-- live feed, notices and chain pushes back for as long as it stayed open; now it holds back
-- nothing here.
--
-- Why it is safe (`crates/smmd-store-sql/src/feed.rs`, "Commit order"): a feed row carries the
-- id of its transaction, and a reader may pass a position only when no transaction below it can
-- still commit a row. Take a snapshot S first. Every id below `xmax(S)` is either in `xip(S)`
-- or had ended at S; rows of ids at or above `xmax(S)` are at or above the horizon, which is
-- never above `xmax(S)`. Of the ids in `xip(S)`, only a transaction of a session connected to
-- this database (or a transaction prepared in it) can write here. Reading the sessions after S:
-- an id of `xip(S)` that no session of this database shows as its `backend_xid`, and no
-- prepared transaction of it holds, either belongs to another database or has ended (its rows
-- are visible to any later read). The horizon is the oldest id of `xip(S)` still held here,
-- else `xmax(S)`; never below `xmin(S)`, the old horizon.
--
-- The order matters (S before the sessions, and S no later than the snapshot of the reads the
-- horizon is used with). The function is STABLE, so S is the snapshot of the statement that
-- calls it: a statement can take the horizon and read rows under one snapshot (the live feed's
-- "anything new?" look), or take it alone before the statements that read. The sessions are
-- live, not MVCC: read while the function runs, after S, and after `pg_stat_clear_snapshot()`
-- (a session list cached earlier in the caller's transaction could predate S). `backend_xid`
-- is shown to every role; where grants hide it, the old server-wide horizon. Hosted child panels
-- share their root's database: they hold each other back as before, but no longer behind other
-- databases. Cost (measured, 1,000 calls): ~2 µs when no transaction is in flight on the
-- server, else one pass over the session slots, ~68 µs with 37 in flight (reading `pg_locks`
-- instead was 0.6 ms).
CREATE OR REPLACE FUNCTION smmd_feed_horizon()
RETURNS BIGINT
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    s pg_snapshot := pg_current_snapshot();
    oldest BIGINT;
BEGIN
    IF pg_snapshot_xmin(s) = pg_snapshot_xmax(s) THEN
        RETURN pg_snapshot_xmax(s)::text::bigint;
    END IF;
    PERFORM pg_stat_clear_snapshot();
    -- `backend_xid` is a 32-bit `xid`; `xip` holds 64-bit ids (epoch and xid).
    SELECT min(x::text::bigint) INTO oldest
    FROM pg_snapshot_xip(s) AS x
    WHERE x::text::bigint % 4294967296 IN (
        SELECT a.backend_xid::text::bigint
        FROM pg_stat_activity a
        WHERE a.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND a.backend_xid IS NOT NULL
        UNION ALL
        SELECT p.transaction::text::bigint
        FROM pg_prepared_xacts p
        WHERE p.database = current_database()
    );
    RETURN COALESCE(oldest, pg_snapshot_xmax(s)::text::bigint);
EXCEPTION
    -- A server that hides the session list from this role (revoked grants): the server-wide
    -- horizon, slower behind other databases but as safe; never a feed that stops.
    WHEN insufficient_privilege THEN
        RETURN pg_snapshot_xmin(s)::text::bigint;
END
$$;
