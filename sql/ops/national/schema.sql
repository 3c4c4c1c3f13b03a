-- The national results schema (issue 16): one national warehouse, separate from every trust's.
-- national_results.runs is the registry of national runs; every other national_results.<table> is appended,
-- keyed by run_id, and national_results.latest_<table> shows the latest completed run's rows.
CREATE SCHEMA IF NOT EXISTS national_results;
CREATE TABLE IF NOT EXISTS national_results.runs (
    run_id VARCHAR PRIMARY KEY,
    as_of VARCHAR NOT NULL,
    manifest VARCHAR NOT NULL,
    dask_address VARCHAR,
    status VARCHAR NOT NULL,          -- running | completed | failed
    trusts INTEGER,
    trusts_completed INTEGER,
    trusts_failed INTEGER,
    failure_reason VARCHAR,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
