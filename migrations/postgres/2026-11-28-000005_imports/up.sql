-- Spreadsheet imports: one row per accepted file, so a re-upload of the same bytes by the
-- same school is recognized and answered with the stored response instead of importing
-- twice.
CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools (id),
    file_sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('csv', 'xlsx')),
    row_count INTEGER NOT NULL CHECK (row_count >= 0),
    purchase_count INTEGER NOT NULL CHECK (purchase_count >= 0),
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    response_body TEXT NOT NULL,
    UNIQUE (school_id, file_sha256)
);
