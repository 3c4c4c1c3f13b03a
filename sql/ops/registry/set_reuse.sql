-- what the run reused, by analysis (tasks/publish/registry.py record_reuse)
UPDATE results.runs SET reuse_json = $reuse_json WHERE run_id = $run_id;
