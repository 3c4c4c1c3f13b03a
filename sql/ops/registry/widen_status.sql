-- Set aside a results.runs made before the 'abandoned' status (DuckDB cannot alter a CHECK constraint in
-- place): create.sql then makes the current table and copy_set_aside.sql copies the rows back.
-- Runs inside the caller's transaction.
DROP VIEW IF EXISTS results.latest_runs;
ALTER TABLE results.runs RENAME TO runs_before_abandoned;
