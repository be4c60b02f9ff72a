ALTER TABLE agg_school DROP COLUMN paid_fen;
ALTER TABLE agg_school DROP COLUMN confirmed_qualifying_fen;
ALTER TABLE agg_school DROP COLUMN confirmed_fen;
DROP TABLE payments;
DROP TABLE purchase_confirmations;
DROP TABLE deliveries;
ALTER TABLE suppliers DROP COLUMN payment_terms_days;
