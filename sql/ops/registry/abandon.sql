-- a running run whose owner is gone: abandoned, with the reason (never touches a finished run)
UPDATE results.runs SET status = 'abandoned', finished_at = $finished_at, failure_reason = $failure_reason
WHERE run_id = $run_id AND status = 'running';
