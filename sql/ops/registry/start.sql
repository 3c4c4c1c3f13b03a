INSERT INTO results.runs (run_id, flow, as_of, started_at, status, code_version, input_sha256, params_json, output_dir)
VALUES ($run_id, $flow, $as_of, $started_at, 'running', $code_version, $input_sha256, $params_json, $output_dir)
ON CONFLICT (run_id) DO UPDATE SET
    started_at = excluded.started_at, status = 'running', finished_at = NULL, failure_reason = NULL,
    code_version = excluded.code_version, input_sha256 = excluded.input_sha256,
    params_json = excluded.params_json, output_dir = excluded.output_dir;
