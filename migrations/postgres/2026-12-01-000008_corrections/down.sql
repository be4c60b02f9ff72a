DROP INDEX purchases_corrects_id;
ALTER TABLE purchases DROP COLUMN corrects_id;
