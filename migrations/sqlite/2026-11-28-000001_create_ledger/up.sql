-- Reference data: prefectures and counties (GB/T 2260, 2019 vintage) and poverty designations.
CREATE TABLE prefectures (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL
);

CREATE TABLE counties (
    code TEXT PRIMARY KEY,
    prefecture_code TEXT NOT NULL REFERENCES prefectures (code),
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL,
    poverty_county_2019 BOOLEAN NOT NULL,
    deep_poverty TEXT NOT NULL,
    exit_year INTEGER,
    source_note TEXT NOT NULL
);

CREATE TABLE county_designations (
    id TEXT PRIMARY KEY,
    county_code TEXT NOT NULL REFERENCES counties (code),
    valid_from DATE NOT NULL,
    valid_to DATE NOT NULL,
    note TEXT NOT NULL,
    CHECK (valid_from <= valid_to)
);
CREATE INDEX county_designations_county ON county_designations (county_code);

-- Accounts and long-lived integration tokens.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    jti TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT,
    label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE targets (
    year INTEGER PRIMARY KEY,
    numerator BIGINT NOT NULL,
    denominator BIGINT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TIMESTAMP NOT NULL,
    CHECK (denominator > 0 AND numerator >= 0 AND numerator <= denominator)
);

-- Schools and suppliers.
CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    county_code TEXT NOT NULL REFERENCES counties (code),
    name TEXT NOT NULL,
    code TEXT,
    students INTEGER,
    address TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX schools_county ON schools (county_code);

-- Head of each school's hash chain; its row lock serializes one school's ledger writes.
CREATE TABLE ledger_heads (
    school_id TEXT PRIMARY KEY REFERENCES schools (id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE suppliers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    origin_county_code TEXT NOT NULL,
    registration_ref TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX suppliers_origin ON suppliers (origin_county_code);

CREATE TABLE supplier_tags (
    id TEXT PRIMARY KEY,
    supplier_id TEXT NOT NULL REFERENCES suppliers (id),
    tag TEXT NOT NULL,
    status TEXT NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE,
    evidence TEXT NOT NULL,
    declared_by TEXT NOT NULL,
    declared_at TIMESTAMP NOT NULL,
    reviewed_by TEXT,
    reviewed_at TIMESTAMP,
    review_note TEXT,
    CHECK (valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX supplier_tags_supplier ON supplier_tags (supplier_id);

-- The ledger: append-only. A void is a reversal entry carrying negated lines.
CREATE TABLE purchases (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools (id),
    county_code TEXT NOT NULL REFERENCES counties (code),
    supplier_id TEXT NOT NULL REFERENCES suppliers (id),
    purchase_date DATE NOT NULL,
    invoice_no TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('entry', 'void')),
    voids_id TEXT UNIQUE REFERENCES purchases (id),
    void_reason TEXT,
    total_fen BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    idempotency_key TEXT,
    UNIQUE (school_id, seq)
);
CREATE INDEX purchases_school_date ON purchases (school_id, purchase_date);
CREATE INDEX purchases_supplier_date ON purchases (supplier_id, purchase_date);
CREATE INDEX purchases_county_date ON purchases (county_code, purchase_date);

CREATE TABLE purchase_lines (
    purchase_id TEXT NOT NULL REFERENCES purchases (id),
    line_no INTEGER NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    unit TEXT NOT NULL,
    unit_price_e4 BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    mass_mg BIGINT,
    PRIMARY KEY (purchase_id, line_no)
);

-- Derived, re-evaluated when tags or designations change; not part of the hash chain.
CREATE TABLE purchase_qualifications (
    purchase_id TEXT PRIMARY KEY REFERENCES purchases (id),
    class TEXT NOT NULL CHECK (class IN ('qualifying', 'pending', 'none')),
    tag TEXT,
    policy_version TEXT NOT NULL,
    evaluated_at TIMESTAMP NOT NULL
);

CREATE TABLE idempotency_keys (
    school_id TEXT NOT NULL REFERENCES schools (id),
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    request_body TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (school_id, idem_key)
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id);
