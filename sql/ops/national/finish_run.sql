UPDATE national_results.runs
SET status = $status, trusts_completed = $trusts_completed, trusts_failed = $trusts_failed,
    failure_reason = $failure_reason, finished_at = now()::TIMESTAMP
WHERE run_id = $run_id;
