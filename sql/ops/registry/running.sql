-- runs still marked running, with what tells whether their owner is alive
SELECT run_id, status, started_at, owner_host, owner_pid, owner_started, heartbeat_at, step
FROM results.runs
WHERE status = 'running'
ORDER BY started_at;
