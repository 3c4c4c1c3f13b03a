-- The run registry.  Result tables are append-only and keyed by run_id.
CREATE TABLE IF NOT EXISTS results.runs (
    run_id          VARCHAR PRIMARY KEY,
    flow            VARCHAR NOT NULL,
    as_of           VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    code_version    VARCHAR NOT NULL,
    input_sha256    VARCHAR,
    params_json     VARCHAR NOT NULL,
    failure_reason  VARCHAR,
    output_dir      VARCHAR
);
CREATE OR REPLACE VIEW results.latest_runs AS
SELECT * FROM results.runs
WHERE status = 'completed'
QUALIFY row_number() OVER (PARTITION BY as_of ORDER BY finished_at DESC, run_id DESC) = 1;
