-- To whom a county's bureau reports its half-monthly progress, where that is not its
-- prefecture (the province names some counties as reporting to it directly). A county
-- without a row reports to its prefecture; a row with `prefecture` records an
-- administrator's decision that overrides the shipped data.
CREATE TABLE reporting_lines (
    county_code TEXT PRIMARY KEY REFERENCES counties (code),
    reports_to TEXT NOT NULL CHECK (reports_to IN ('prefecture', 'province')),
    source TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
