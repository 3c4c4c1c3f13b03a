-- the last completed run of a flow for a month, for skip-if-unchanged decisions
SELECT run_id, input_sha256, code_version, params_json
FROM results.runs
WHERE status = 'completed' AND as_of = $as_of AND flow = $flow
ORDER BY finished_at DESC
LIMIT 1;
