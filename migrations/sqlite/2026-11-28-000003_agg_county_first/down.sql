DROP INDEX agg_school_county;
DROP INDEX agg_facts_county;
CREATE INDEX agg_school_county ON agg_school (kind, bucket_start, county_code);
CREATE INDEX agg_facts_county ON agg_facts (kind, bucket_start, county_code);
