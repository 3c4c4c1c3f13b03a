SELECT * FROM results.runs WHERE run_id = $run_id;
