UPDATE results.runs SET outputs_json = $outputs_json WHERE run_id = $run_id;
