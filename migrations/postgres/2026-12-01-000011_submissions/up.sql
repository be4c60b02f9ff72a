-- Half-monthly progress submissions of county and prefecture bureaus. A submission
-- freezes what the unit reported (`frozen_json`, the answer `GET /submissions/{id}`
-- returns byte for byte) and the chain head of every school it covers
-- (`submission_heads`, with one `digest` over them). Never changed: a correction is a new
-- revision with a reason; the latest revision stands.
CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    unit_kind TEXT NOT NULL CHECK (unit_kind IN ('county', 'prefecture')),
    unit_code TEXT NOT NULL,
    period TEXT NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    reason TEXT,
    idem_key TEXT NOT NULL,
    request_json TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    due_on DATE NOT NULL,
    on_time BOOLEAN NOT NULL,
    policy_version TEXT NOT NULL,
    digest TEXT NOT NULL,
    frozen_json TEXT NOT NULL,
    UNIQUE (unit_kind, unit_code, period, revision),
    UNIQUE (unit_kind, unit_code, idem_key),
    CHECK ((revision = 1) = (reason IS NULL))
);
CREATE INDEX submissions_by_period ON submissions (period, unit_kind, unit_code);

CREATE TABLE submission_heads (
    submission_id TEXT NOT NULL REFERENCES submissions (id),
    school_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (submission_id, school_id)
);

CREATE TRIGGER submissions_append_only BEFORE UPDATE OR DELETE ON submissions
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER submissions_no_truncate BEFORE TRUNCATE ON submissions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER submission_heads_append_only BEFORE UPDATE OR DELETE ON submission_heads
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER submission_heads_no_truncate BEFORE TRUNCATE ON submission_heads
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
