-- An order's public reference is its id in hex and a random tail (`smmd_domain::reference`;
-- issue 20, stop 54): unique by construction (12 random hex digits could collide and fail an
-- `add`), and in id order, so `orders_reference` takes each new one on its last page instead of
-- a random page (on SQLite one WAL page less per order; here one random b-tree insert less).
-- References made before (12 digits) stay as they are; new ones (13 or more) never equal them.
--
-- Every path that inserts an order knows its id first and builds the reference in the
-- application, except this function, which takes ids from the sequence: it is 0035's
-- `smmd_place_orders` with the batch's `reference` (a whole reference) replaced by
-- `reference_tail` (the random part, 0–65535) and the reference built from the new id.
-- Same signature, same answers, same rules otherwise (see 0035).
CREATE OR REPLACE FUNCTION smmd_place_orders(batch TEXT)
RETURNS TABLE (n BIGINT, placed orders, refused TEXT)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    -- The batch, parsed once (a profile had parsing it per statement at a seventh of the
    -- server's time).
    parsed JSONB := batch::jsonb;
    o RECORD;
    -- The batch's users, by id: balance (micro-units) and whether referred.
    u_ids BIGINT[];
    u_balance BIGINT[];
    u_referred BOOLEAN[];
    p INT := 0;
    cur_user BIGINT := NULL;
    bal BIGINT;
    referred BOOLEAN;
    -- Orders an existing row refuses.
    link_taken BIGINT[];
    key_taken BIGINT[];
    -- What this batch placed so far, for the current user.
    links_held TEXT[];
    keys_held TEXT[];
    -- The decisions: placed orders (n, balance after) and refused ones (n, code).
    ok_n BIGINT[] := '{}';
    ok_after BIGINT[] := '{}';
    no_n BIGINT[] := '{}';
    no_code TEXT[] := '{}';
BEGIN
    SELECT array_agg(l.id ORDER BY l.id), array_agg(l.balance ORDER BY l.id),
           array_agg(l.referred ORDER BY l.id)
    INTO u_ids, u_balance, u_referred
    FROM (
        SELECT u.id, u.balance,
               EXISTS (SELECT 1 FROM referrals r WHERE r.user_id = u.id) AS referred
        FROM users u
        WHERE u.id IN (SELECT (e ->> 'user_id')::BIGINT FROM jsonb_array_elements(parsed) e)
        ORDER BY u.id
        FOR UPDATE OF u
    ) l;

    SELECT array_agg(j.n) FILTER (WHERE j.link_key IS NOT NULL AND EXISTS (
               SELECT 1 FROM orders x
               WHERE x.user_id = j.user_id AND x.service_id = j.service_id
                 AND x.link_key = j.link_key
                 AND x.status IN ('queued', 'submitting', 'needs_review', 'processing', 'in_progress'))),
           array_agg(j.n) FILTER (WHERE j.request_key IS NOT NULL AND EXISTS (
               SELECT 1 FROM orders x
               WHERE x.user_id = j.user_id AND x.request_key = j.request_key))
    INTO link_taken, key_taken
    FROM jsonb_to_recordset(parsed) AS j(n BIGINT, user_id BIGINT, service_id BIGINT,
        link_key TEXT, request_key TEXT);

    FOR o IN
        SELECT j.n, j.user_id, j.service_id, j.link_key, j.request_key, j.charge
        FROM jsonb_to_recordset(parsed) AS j(n BIGINT, user_id BIGINT, service_id BIGINT,
            link_key TEXT, request_key TEXT, charge BIGINT)
        ORDER BY j.user_id, j.n
    LOOP
        IF cur_user IS DISTINCT FROM o.user_id THEN
            cur_user := o.user_id;
            WHILE p < coalesce(array_length(u_ids, 1), 0) AND u_ids[p + 1] < o.user_id LOOP
                p := p + 1;
            END LOOP;
            IF p < coalesce(array_length(u_ids, 1), 0) AND u_ids[p + 1] = o.user_id THEN
                bal := u_balance[p + 1];
                referred := u_referred[p + 1];
            ELSE
                -- No such user: the order row's foreign key refuses it, so step 4 fails as a
                -- whole and the orders are placed one at a time, where the error is the user's.
                bal := NULL;
                referred := false;
            END IF;
            links_held := '{}';
            keys_held := '{}';
        END IF;
        IF referred THEN
            no_n := no_n || o.n;
            no_code := no_code || 'alone'::TEXT;
        ELSIF o.link_key IS NOT NULL AND (o.n = ANY (link_taken)
                OR (o.service_id::TEXT || ' ' || o.link_key) = ANY (links_held)) THEN
            no_n := no_n || o.n;
            no_code := no_code || 'unique orders_active_link'::TEXT;
        ELSIF o.request_key IS NOT NULL AND (o.n = ANY (key_taken)
                OR o.request_key = ANY (keys_held)) THEN
            no_n := no_n || o.n;
            no_code := no_code || 'unique orders_request_key'::TEXT;
        ELSIF o.charge > 0 AND bal IS NOT NULL AND bal - o.charge < 0 THEN
            no_n := no_n || o.n;
            no_code := no_code || 'insufficient_funds'::TEXT;
        ELSE
            bal := bal - o.charge;
            ok_n := ok_n || o.n;
            ok_after := ok_after || bal;
            IF o.link_key IS NOT NULL THEN
                links_held := links_held || (o.service_id::TEXT || ' ' || o.link_key);
            END IF;
            IF o.request_key IS NOT NULL THEN
                keys_held := keys_held || o.request_key;
            END IF;
        END IF;
    END LOOP;

    RETURN QUERY
    WITH j AS (
        SELECT * FROM jsonb_to_recordset(parsed) AS j(
            n BIGINT, user_id BIGINT, service_id BIGINT, link TEXT, link_key TEXT,
            quantity BIGINT, runs BIGINT, interval_minutes BIGINT, total_quantity BIGINT,
            charge BIGINT, extras TEXT, guarantee_days BIGINT, refill BIGINT, cancel BIGINT,
            provider_id BIGINT, provider_service_id TEXT, now BIGINT, reference_tail INT,
            request_key TEXT, panel_id BIGINT, status TEXT, event_kind TEXT, ledger_kind TEXT,
            key_head TEXT, key_tail TEXT, reason_head TEXT)
    ),
    -- Placed orders in decision order, each with its new id.
    a AS (
        SELECT d.n, d.balance_after, d.ord,
               nextval(pg_get_serial_sequence('orders', 'id')) AS id
        FROM unnest(ok_n, ok_after) WITH ORDINALITY AS d(n, balance_after, ord)
        ORDER BY d.ord
    ),
    ins AS (
        INSERT INTO orders AS t (id, user_id, service_id, status, link, link_key, quantity, runs,
            interval_minutes, total_quantity, charge, extras, guarantee_days, refill, cancel,
            provider_id, provider_service_id, created_at, updated_at, reference, request_key,
            panel_id)
        SELECT a.id, j.user_id, j.service_id, j.status, j.link, j.link_key, j.quantity, j.runs,
            j.interval_minutes, j.total_quantity, j.charge, j.extras, j.guarantee_days, j.refill,
            j.cancel, j.provider_id, j.provider_service_id, j.now, j.now,
            -- `smmd_domain::reference::reference(id, tail)`: the id in 9 hex digits or more,
            -- then the tail in 4 (`lpad` would cut a longer id short).
            CASE WHEN a.id < 68719476736 THEN lpad(to_hex(a.id), 9, '0') ELSE to_hex(a.id) END
                || lpad(to_hex(j.reference_tail), 4, '0'),
            j.request_key, j.panel_id
        FROM a JOIN j ON j.n = a.n
        ORDER BY a.ord
        RETURNING t.id, t AS placed_row
    ),
    debit AS (
        UPDATE users u SET balance = u.balance - s.total
        FROM (SELECT j.user_id, sum(j.charge)::BIGINT AS total
              FROM a JOIN j ON j.n = a.n WHERE j.charge > 0 GROUP BY j.user_id) s
        WHERE u.id = s.user_id
    ),
    led AS (
        INSERT INTO ledger (user_id, amount, balance_after, idem_key, kind, reason, order_id,
            actor_id, created_at)
        SELECT j.user_id, -j.charge, a.balance_after, j.key_head || a.id || j.key_tail,
            j.ledger_kind, j.reason_head || a.id, a.id, NULL, j.now
        FROM a JOIN j ON j.n = a.n
        WHERE j.charge > 0
        ORDER BY a.ord
    ),
    ev AS (
        INSERT INTO order_events (order_id, user_id, kind, status, amount, detail, created_at)
        SELECT a.id, j.user_id, j.event_kind, j.status, -j.charge, '', j.now
        FROM a JOIN j ON j.n = a.n
        ORDER BY a.ord
    )
    SELECT a.n, ins.placed_row, NULL::TEXT FROM a JOIN ins ON ins.id = a.id
    UNION ALL
    SELECT r.n, NULL::orders, r.code FROM unnest(no_n, no_code) AS r(n, code);
END
$$;
