-- A correction (POST /purchases/{id}/correct) voids an entry and records its replacement
-- in one transaction; the replacement names the entry it corrects. An entry is voided at
-- most once, so it is corrected at most once.
ALTER TABLE purchases ADD COLUMN corrects_id TEXT REFERENCES purchases (id);
CREATE UNIQUE INDEX purchases_corrects_id ON purchases (corrects_id);
