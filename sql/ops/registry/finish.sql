UPDATE results.runs
SET status = $status, finished_at = $finished_at, failure_reason = $failure_reason
WHERE run_id = $run_id;
