-- The canonical form each ledger entry is hashed in (see src/domain/ledger.rs): entries
-- written before this migration are format 1; the server writes format 2, which covers
-- every stored field of the entry and its lines.
ALTER TABLE purchases ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 1;

-- Append-only tables: the database itself refuses UPDATE, DELETE and TRUNCATE, so that
-- tampering has to defeat the database (a superuser or the tables' owner disabling these
-- triggers), not just skip the application. The server's own role should own nothing
-- (see README, Security).
CREATE FUNCTION refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER purchases_append_only BEFORE UPDATE OR DELETE ON purchases
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER purchases_no_truncate BEFORE TRUNCATE ON purchases
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();

CREATE TRIGGER purchase_lines_append_only BEFORE UPDATE OR DELETE ON purchase_lines
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER purchase_lines_no_truncate BEFORE TRUNCATE ON purchase_lines
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();

CREATE TRIGGER payments_append_only BEFORE UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER payments_no_truncate BEFORE TRUNCATE ON payments
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();

-- A confirmation or dispute is final: the application only ever inserts it.
CREATE TRIGGER purchase_confirmations_append_only BEFORE UPDATE OR DELETE ON purchase_confirmations
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER purchase_confirmations_no_truncate BEFORE TRUNCATE ON purchase_confirmations
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();

-- Qualifications are re-evaluated in place (the audited reclassification path updates
-- class, tag, policy_version and evaluated_at), but a row is never deleted nor moved to
-- another purchase. Verification recomputes every qualification from tags and
-- designations, so an edit by hand is found too.
CREATE TRIGGER purchase_qualifications_no_delete BEFORE DELETE ON purchase_qualifications
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER purchase_qualifications_keep_purchase BEFORE UPDATE OF purchase_id ON purchase_qualifications
    FOR EACH ROW WHEN (OLD.purchase_id IS DISTINCT FROM NEW.purchase_id) EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER purchase_qualifications_no_truncate BEFORE TRUNCATE ON purchase_qualifications
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
