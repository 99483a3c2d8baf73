-- Group commit of order placement on PostgreSQL (issue 20): a batch of placements in one
-- statement, so one round trip and one commit instead of six round trips and a commit each.
-- `crates/smmd-store-sql/src/orders/group_pg.rs` sends the batch (a JSON array, sorted by user
-- so that batches of several instances lock users' rows in one order) and answers each caller.
--
-- Per order, in a block of its own (a subtransaction: a refusal rolls back that order alone),
-- exactly the statements of the one-at-a-time path (`place_alone`): the order row, the
-- conditional debit of its charge (never below zero) with its ledger row under the charge key,
-- and the `placed` event. The texts that are the application's (charge key and reason, ledger
-- kind, event kind, status) come in with each order, so they have one source.
--
-- Answer per order `n`: `placed` = the new order's row as committed (the table's row type, so
-- the caller reads it back with no second query), or `refused` =
--   'alone'               a referred user (the commission is written by the application: place
--                         this order alone), nothing written;
--   'insufficient_funds'  the balance does not cover the charge, nothing written;
--   'unique <constraint>' a unique rule refused the order row (`orders_active_link`,
--                         `orders_request_key`, …), nothing written.
CREATE FUNCTION smmd_place_orders(batch TEXT)
RETURNS TABLE (n BIGINT, placed orders, refused TEXT)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    o RECORD;
    row_now orders;
    balance_after BIGINT;
    violated TEXT;
BEGIN
    FOR o IN
        SELECT * FROM jsonb_to_recordset(batch::jsonb) AS j(
            n BIGINT, user_id BIGINT, service_id BIGINT, link TEXT, link_key TEXT,
            quantity BIGINT, runs BIGINT, interval_minutes BIGINT, total_quantity BIGINT,
            charge BIGINT, extras TEXT, guarantee_days BIGINT, refill BIGINT, cancel BIGINT,
            provider_id BIGINT, provider_service_id TEXT, now BIGINT, reference TEXT,
            request_key TEXT, panel_id BIGINT, status TEXT, event_kind TEXT, ledger_kind TEXT,
            key_head TEXT, key_tail TEXT, reason_head TEXT)
    LOOP
        n := o.n;
        placed := NULL;
        refused := NULL;
        IF EXISTS (SELECT 1 FROM referrals r WHERE r.user_id = o.user_id) THEN
            refused := 'alone';
        ELSE
            BEGIN
                INSERT INTO orders (user_id, service_id, status, link, link_key, quantity, runs,
                    interval_minutes, total_quantity, charge, extras, guarantee_days, refill,
                    cancel, provider_id, provider_service_id, created_at, updated_at, reference,
                    request_key, panel_id)
                VALUES (o.user_id, o.service_id, o.status, o.link, o.link_key, o.quantity, o.runs,
                    o.interval_minutes, o.total_quantity, o.charge, o.extras, o.guarantee_days,
                    o.refill, o.cancel, o.provider_id, o.provider_service_id, o.now, o.now,
                    o.reference, o.request_key, o.panel_id)
                RETURNING * INTO row_now;
                IF o.charge > 0 THEN
                    UPDATE users SET balance = balance - o.charge
                    WHERE id = o.user_id AND balance - o.charge >= 0
                    RETURNING balance INTO balance_after;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION USING ERRCODE = 'SMM01', MESSAGE = 'insufficient_funds';
                    END IF;
                    INSERT INTO ledger (user_id, amount, balance_after, idem_key, kind, reason,
                        order_id, actor_id, created_at)
                    VALUES (o.user_id, -o.charge, balance_after, o.key_head || row_now.id || o.key_tail,
                        o.ledger_kind, o.reason_head || row_now.id, row_now.id, NULL, o.now);
                END IF;
                INSERT INTO order_events (order_id, user_id, kind, status, amount, detail, created_at)
                VALUES (row_now.id, o.user_id, o.event_kind, o.status, -o.charge, '', o.now);
                placed := row_now;
            EXCEPTION
                WHEN unique_violation THEN
                    GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
                    refused := 'unique ' || violated;
                WHEN SQLSTATE 'SMM01' THEN
                    refused := 'insufficient_funds';
            END;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
