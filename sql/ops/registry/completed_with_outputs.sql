-- completed runs whose outputs are tracked (runs made before outputs were recorded have none)
SELECT run_id, output_dir, outputs_json
FROM results.runs
WHERE status = 'completed' AND outputs_json IS NOT NULL
ORDER BY finished_at;
