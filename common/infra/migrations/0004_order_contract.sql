-- The order after payment: in production, shipped (with tracking), delivered; refunds by
-- the amount of the order's own charge; every change kept in an append-only history.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders DROP CONSTRAINT orders_check1;
UPDATE orders SET status = 'in_production' WHERE status = 'fulfilled';
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (
    status IN ('draft', 'pending_payment', 'paid', 'in_production', 'shipped', 'delivered',
               'refunded', 'cancelled')
);
ALTER TABLE orders ADD CONSTRAINT orders_paid_at_check CHECK (
    status NOT IN ('paid', 'in_production', 'shipped', 'delivered', 'refunded')
    OR paid_at IS NOT NULL
);
ALTER TABLE orders ADD COLUMN refunded_cents INTEGER NOT NULL DEFAULT 0
    CHECK (refunded_cents >= 0);
ALTER TABLE orders ADD COLUMN carrier TEXT CHECK (length(carrier) <= 80);
ALTER TABLE orders ADD COLUMN tracking_number TEXT CHECK (length(tracking_number) <= 80);
ALTER TABLE orders ADD COLUMN tracking_url TEXT CHECK (length(tracking_url) <= 2048);
ALTER TABLE orders ADD CONSTRAINT orders_shipped_tracking_check CHECK (
    status NOT IN ('shipped', 'delivered') OR tracking_number IS NOT NULL
);

-- What happened to an order, when, and what caused it (a Stripe event, the shopper, ops).
CREATE TABLE order_events (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    kind TEXT NOT NULL CHECK (kind IN ('status', 'flagged', 'flag_cleared', 'refund')),
    status TEXT NOT NULL,
    cause TEXT NOT NULL CHECK (length(cause) BETWEEN 1 AND 300),
    detail TEXT NOT NULL DEFAULT '' CHECK (length(detail) <= 1000)
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);

CREATE FUNCTION order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Deleting the order itself takes its history along (the cascade); nothing else may.
    IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'order_events is append-only; % is refused', TG_OP;
END;
$$;
CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_append_only();
CREATE TRIGGER order_events_no_truncate BEFORE TRUNCATE ON order_events
    FOR EACH STATEMENT EXECUTE FUNCTION order_events_append_only();

-- Every order has its history from the start: the status it is in now.
INSERT INTO order_events (order_id, at, kind, status, cause, detail)
SELECT id, created_at, 'status', status, 'migration', 'history starts here' FROM orders;

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (
    kind IN ('sheet_row', 'order_confirmation_email', 'ops_notification_email',
             'contact_email', 'shipped_email')
);
