-- The run registry.  Result tables are append-only and keyed by run_id.
-- owner_*: the process that runs it (host, PID, process start time as epoch seconds), so that a later
-- command can tell a crashed run (owner gone, or heartbeat too old) and mark it abandoned.
-- outputs_json: {"report"|"exports"|"artifacts": {"status": "planned"|"written"|"failed", "path", "reason"}}.
CREATE TABLE IF NOT EXISTS results.runs (
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
-- warehouses made before the owner columns existed
ALTER TABLE results.runs ADD COLUMN IF NOT EXISTS owner_host VARCHAR;
ALTER TABLE results.runs ADD COLUMN IF NOT EXISTS owner_pid BIGINT;
ALTER TABLE results.runs ADD COLUMN IF NOT EXISTS owner_started DOUBLE;
ALTER TABLE results.runs ADD COLUMN IF NOT EXISTS heartbeat_at TIMESTAMP;
ALTER TABLE results.runs ADD COLUMN IF NOT EXISTS step VARCHAR;
ALTER TABLE results.runs ADD COLUMN IF NOT EXISTS outputs_json VARCHAR;
-- status_dates: whether the applications export dates its status changes ('complete', 'partial', 'absent':
-- then point-in-time runs use final flags; tasks/marts.py load_mart, docs/data-contract.md "Status dates")
ALTER TABLE results.runs ADD COLUMN IF NOT EXISTS status_dates VARCHAR;
-- reuse_json: what the run took from earlier work instead of recomputing, by analysis
-- ({"text": {"documents": n, "from_cache": n, "computed": n}}; tasks/publish/registry.py record_reuse)
ALTER TABLE results.runs ADD COLUMN IF NOT EXISTS reuse_json VARCHAR;
CREATE OR REPLACE VIEW results.latest_runs AS
SELECT * FROM results.runs
WHERE status = 'completed'
QUALIFY row_number() OVER (PARTITION BY as_of ORDER BY finished_at DESC, run_id DESC) = 1;
