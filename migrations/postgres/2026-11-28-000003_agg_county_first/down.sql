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
);

CREATE INDEX agg_school_county ON agg_school (kind, bucket_start, county_code);
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
);

CREATE INDEX agg_facts_county ON agg_facts (kind, bucket_start, county_code);
INSERT INTO agg_facts SELECT * FROM agg_facts_old;
DROP TABLE agg_facts_old;
