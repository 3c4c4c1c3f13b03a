SELECT * FROM national_results.runs ORDER BY started_at DESC, run_id;
