-- a running run's sign of life: the step it is at, and when
UPDATE results.runs SET heartbeat_at = $heartbeat_at, step = $step
WHERE run_id = $run_id AND status = 'running';
