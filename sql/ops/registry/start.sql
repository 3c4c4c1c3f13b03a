INSERT INTO results.runs (run_id, flow, as_of, started_at, status, code_version, input_sha256, params_json, output_dir,
                          owner_host, owner_pid, owner_started, heartbeat_at, step, outputs_json)
VALUES ($run_id, $flow, $as_of, $started_at, 'running', $code_version, $input_sha256, $params_json, $output_dir,
        $owner_host, $owner_pid, $owner_started, $started_at, 'register', $outputs_json)
ON CONFLICT (run_id) DO UPDATE SET
    started_at = excluded.started_at, status = 'running', finished_at = NULL, failure_reason = NULL,
    code_version = excluded.code_version, input_sha256 = excluded.input_sha256,
    params_json = excluded.params_json, output_dir = excluded.output_dir,
    owner_host = excluded.owner_host, owner_pid = excluded.owner_pid, owner_started = excluded.owner_started,
    heartbeat_at = excluded.heartbeat_at, step = excluded.step, outputs_json = excluded.outputs_json;
