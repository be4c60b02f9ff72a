-- Supplier-side deliveries, two-party confirmation of purchases, and payments.

-- Days after the purchase date a payment is due (payment terms), per supplier.
ALTER TABLE suppliers ADD COLUMN payment_terms_days INTEGER NOT NULL DEFAULT 30;

-- A delivery a supplier pushed to a school; the canteen confirms it (creating or linking
-- the purchase) or disputes it. `request_body`/`request_hash`/`response_body` give the
-- push the same idempotency semantics as a purchase (key unique per supplier).
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    supplier_id TEXT NOT NULL REFERENCES suppliers (id),
    school_id TEXT NOT NULL REFERENCES schools (id),
    delivery_date DATE NOT NULL,
    reference TEXT NOT NULL,
    total_fen BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'disputed')),
    purchase_id TEXT UNIQUE REFERENCES purchases (id),
    dispute_reason TEXT,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    request_body TEXT NOT NULL,
    response_body TEXT NOT NULL,
    -- The purchase this delivery becomes when the canteen confirms it (a purchase body).
    purchase_body TEXT NOT NULL,
    pushed_by TEXT NOT NULL,
    pushed_at TIMESTAMP NOT NULL,
    resolved_by TEXT,
    resolved_at TIMESTAMP,
    UNIQUE (supplier_id, idem_key)
);
CREATE INDEX deliveries_school ON deliveries (school_id, status);

-- The second party's word on a purchase: the canteen confirmed the supplier's delivery,
-- or the supplier acknowledged (or disputed) the canteen's entry. No row: unconfirmed.
CREATE TABLE purchase_confirmations (
    purchase_id TEXT PRIMARY KEY REFERENCES purchases (id),
    state TEXT NOT NULL CHECK (state IN ('confirmed', 'disputed')),
    via TEXT NOT NULL CHECK (via IN ('delivery', 'supplier')),
    delivery_id TEXT REFERENCES deliveries (id),
    reason TEXT,
    decided_by TEXT NOT NULL,
    decided_at TIMESTAMP NOT NULL
);

-- Payments against a purchase (partial allowed; never more than its total).
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    purchase_id TEXT NOT NULL REFERENCES purchases (id),
    paid_on DATE NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    reference TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX payments_purchase ON payments (purchase_id);

-- Confirmed and paid figures per school bucket (by purchase date).
ALTER TABLE agg_school ADD COLUMN confirmed_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agg_school ADD COLUMN confirmed_qualifying_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agg_school ADD COLUMN paid_fen BIGINT NOT NULL DEFAULT 0;
