SELECT run_id, flow, as_of, status, code_version, input_sha256, started_at, finished_at,
       date_diff('second', started_at, coalesce(finished_at, heartbeat_at, started_at)) AS seconds, failure_reason,
       step, owner_host, owner_pid, heartbeat_at, outputs_json, status_dates
FROM results.runs
ORDER BY started_at DESC;
