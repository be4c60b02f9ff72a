DROP TABLE target_history;
DROP TABLE agg_facts;
DROP TABLE agg_school;
