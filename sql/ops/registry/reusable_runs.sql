-- Completed runs whose analysis $analysis recorded these inputs (reuse_json.<analysis>.inputs_sha256), newest first
-- (tasks/analyses/text/reuse.py: a whole analysis is reused when its inputs, parameters and code are unchanged).
SELECT run_id, output_dir, reuse_json
FROM results.runs
WHERE status = 'completed'
  AND json_extract_string(reuse_json, '$.' || $analysis || '.inputs_sha256') = $inputs_sha256
ORDER BY finished_at DESC, run_id DESC;
