-- County first: a per-county rebuild, check or delete reads one index range instead of
-- scanning every bucket; county-scoped reports still find (county, kind, bucket).
DROP INDEX agg_school_county;
DROP INDEX agg_facts_county;
CREATE INDEX agg_school_county ON agg_school (county_code, kind, bucket_start);
CREATE INDEX agg_facts_county ON agg_facts (county_code, kind, bucket_start);
