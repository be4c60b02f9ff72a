-- Webhooks for supplier integrations: subscriptions, the events emitted in the ledger
-- write's own transaction (transactional outbox), and one delivery row per event and
-- subscription (the delivery log the dispatcher works through).
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    supplier_id TEXT NOT NULL REFERENCES suppliers (id),
    url TEXT NOT NULL,
    -- Comma-separated event types; NULL: every event type.
    events TEXT,
    -- HMAC key (shown to the supplier once, kept to sign deliveries).
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (length(url) <= 2000)
);
CREATE INDEX webhook_subscriptions_supplier ON webhook_subscriptions (supplier_id);

CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    supplier_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- The JSON document POSTed to every subscriber (fixed, so each retry sends and
    -- signs the same bytes).
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES webhook_events (id),
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    -- pending → delivered | failed
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    -- When the dispatcher next picks it up; NULL once delivered or failed.
    next_attempt_at TIMESTAMP,
    last_attempt_at TIMESTAMP,
    last_status_code INTEGER,
    last_error TEXT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    CHECK (status IN ('pending', 'delivered', 'failed')),
    CHECK (attempts >= 0)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
