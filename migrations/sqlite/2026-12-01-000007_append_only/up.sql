-- The canonical form each ledger entry is hashed in (see src/domain/ledger.rs): entries
-- written before this migration are format 1; the server writes format 2, which covers
-- every stored field of the entry and its lines.
ALTER TABLE purchases ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 1;

-- Append-only tables: the database itself refuses UPDATE and DELETE, so that tampering
-- has to defeat the database (drop these triggers), not just skip the application.
-- (SQLite has no TRUNCATE; `DELETE FROM t` fires the DELETE trigger.)

CREATE TRIGGER purchases_no_update BEFORE UPDATE ON purchases
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on purchases refused: the table is append-only');
END;
CREATE TRIGGER purchases_no_delete BEFORE DELETE ON purchases
BEGIN
    SELECT RAISE(ABORT, 'DELETE on purchases refused: the table is append-only');
END;

CREATE TRIGGER purchase_lines_no_update BEFORE UPDATE ON purchase_lines
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on purchase_lines refused: the table is append-only');
END;
CREATE TRIGGER purchase_lines_no_delete BEFORE DELETE ON purchase_lines
BEGIN
    SELECT RAISE(ABORT, 'DELETE on purchase_lines refused: the table is append-only');
END;

CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on payments refused: the table is append-only');
END;
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
BEGIN
    SELECT RAISE(ABORT, 'DELETE on payments refused: the table is append-only');
END;

-- A confirmation or dispute is final: the application only ever inserts it.
CREATE TRIGGER purchase_confirmations_no_update BEFORE UPDATE ON purchase_confirmations
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on purchase_confirmations refused: the table is append-only');
END;
CREATE TRIGGER purchase_confirmations_no_delete BEFORE DELETE ON purchase_confirmations
BEGIN
    SELECT RAISE(ABORT, 'DELETE on purchase_confirmations refused: the table is append-only');
END;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on audit_log refused: the table is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'DELETE on audit_log refused: the table is append-only');
END;

-- Qualifications are re-evaluated in place (the audited reclassification path updates
-- class, tag, policy_version and evaluated_at), but a row is never deleted nor moved to
-- another purchase. Verification recomputes every qualification from tags and
-- designations, so an edit by hand is found too.
CREATE TRIGGER purchase_qualifications_no_delete BEFORE DELETE ON purchase_qualifications
BEGIN
    SELECT RAISE(ABORT, 'DELETE on purchase_qualifications refused: rows are never deleted');
END;
CREATE TRIGGER purchase_qualifications_keep_purchase BEFORE UPDATE OF purchase_id ON purchase_qualifications
WHEN OLD.purchase_id IS NOT NEW.purchase_id
BEGIN
    SELECT RAISE(ABORT, 'UPDATE of purchase_qualifications.purchase_id refused');
END;
