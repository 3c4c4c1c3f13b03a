UPDATE results.runs SET input_sha256 = $input_sha256 WHERE run_id = $run_id;
