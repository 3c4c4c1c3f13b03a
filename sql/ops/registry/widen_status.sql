-- Rebuild results.runs with the current CHECK (DuckDB cannot alter a CHECK constraint in place).
-- Runs inside the caller's transaction; create.sql then recreates results.latest_runs.
DROP VIEW IF EXISTS results.latest_runs;
ALTER TABLE results.runs RENAME TO runs_before_abandoned;
CREATE TABLE results.runs (
    run_id          VARCHAR PRIMARY KEY,
    flow            VARCHAR NOT NULL,
    as_of           VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'abandoned')),
    code_version    VARCHAR NOT NULL,
    input_sha256    VARCHAR,
    params_json     VARCHAR NOT NULL,
    failure_reason  VARCHAR,
    output_dir      VARCHAR,
    owner_host      VARCHAR,
    owner_pid       BIGINT,
    owner_started   DOUBLE,
    heartbeat_at    TIMESTAMP,
    step            VARCHAR,
    outputs_json    VARCHAR
);
INSERT INTO results.runs BY NAME SELECT * FROM results.runs_before_abandoned;
DROP TABLE results.runs_before_abandoned;
