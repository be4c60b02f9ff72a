-- Aggregates maintained in the same transaction as every ledger write and every
-- reclassification, so reports never read the purchase table.
-- kind: 0 = day, 1 = half-month, 2 = month, 3 = quarter, 4 = year; bucket_start is the
-- first day of the bucket. Any date range is an exact sum of whole buckets.

-- Per school and bucket: the figures a share needs, and net purchase count.
CREATE TABLE agg_school (
    school_id TEXT NOT NULL REFERENCES schools (id),
    county_code TEXT NOT NULL,
    kind INTEGER NOT NULL,
    bucket_start DATE NOT NULL,
    total_fen BIGINT NOT NULL,
    qualifying_fen BIGINT NOT NULL,
    pending_fen BIGINT NOT NULL,
    total_mg BIGINT NOT NULL,
    qualifying_mg BIGINT NOT NULL,
    purchases BIGINT NOT NULL,
    -- Bucket first: a report reads one or a few buckets for many schools.
    PRIMARY KEY (kind, bucket_start, school_id)
);
CREATE INDEX agg_school_county ON agg_school (kind, bucket_start, county_code);

-- Per school, bucket, category and qualification: for tag and category breakdowns.
CREATE TABLE agg_facts (
    school_id TEXT NOT NULL REFERENCES schools (id),
    county_code TEXT NOT NULL,
    kind INTEGER NOT NULL,
    bucket_start DATE NOT NULL,
    category TEXT NOT NULL,
    class TEXT NOT NULL,
    tag TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    mass_mg BIGINT NOT NULL,
    PRIMARY KEY (kind, bucket_start, school_id, category, class, tag)
);
CREATE INDEX agg_facts_county ON agg_facts (kind, bucket_start, county_code);

-- Every target the province has set, in order (the current one is in `targets`).
CREATE TABLE target_history (
    id TEXT PRIMARY KEY,
    year INTEGER NOT NULL,
    numerator BIGINT NOT NULL,
    denominator BIGINT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TIMESTAMP NOT NULL
);
