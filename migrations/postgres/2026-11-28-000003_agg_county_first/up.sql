-- A report reads one bucket kind for many schools. In PostgreSQL's heap the few year
-- (or month) rows would be scattered among the many day rows, so each kind gets its
-- own partition and a report reads a compact one. County first in the second index: a
-- per-county rebuild, check or delete reads one index range instead of every bucket.
-- (SQLite's WITHOUT ROWID tables are already clustered by the bucket-first key.)
ALTER TABLE agg_school RENAME TO agg_school_old;
ALTER INDEX agg_school_county RENAME TO agg_school_old_county;
ALTER INDEX agg_school_pkey RENAME TO agg_school_old_pkey;

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
    PRIMARY KEY (kind, bucket_start, school_id)
) PARTITION BY LIST (kind);
CREATE TABLE agg_school_day PARTITION OF agg_school FOR VALUES IN (0);
CREATE TABLE agg_school_half_month PARTITION OF agg_school FOR VALUES IN (1);
CREATE TABLE agg_school_month PARTITION OF agg_school FOR VALUES IN (2);
CREATE TABLE agg_school_quarter PARTITION OF agg_school FOR VALUES IN (3);
CREATE TABLE agg_school_year PARTITION OF agg_school FOR VALUES IN (4);

CREATE INDEX agg_school_county ON agg_school (county_code, kind, bucket_start);
INSERT INTO agg_school SELECT * FROM agg_school_old;
DROP TABLE agg_school_old;

ALTER TABLE agg_facts RENAME TO agg_facts_old;
ALTER INDEX agg_facts_county RENAME TO agg_facts_old_county;
ALTER INDEX agg_facts_pkey RENAME TO agg_facts_old_pkey;

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
) PARTITION BY LIST (kind);
CREATE TABLE agg_facts_day PARTITION OF agg_facts FOR VALUES IN (0);
CREATE TABLE agg_facts_half_month PARTITION OF agg_facts FOR VALUES IN (1);
CREATE TABLE agg_facts_month PARTITION OF agg_facts FOR VALUES IN (2);
CREATE TABLE agg_facts_quarter PARTITION OF agg_facts FOR VALUES IN (3);
CREATE TABLE agg_facts_year PARTITION OF agg_facts FOR VALUES IN (4);

CREATE INDEX agg_facts_county ON agg_facts (county_code, kind, bucket_start);
INSERT INTO agg_facts SELECT * FROM agg_facts_old;
DROP TABLE agg_facts_old;
