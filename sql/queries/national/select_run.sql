SELECT * EXCLUDE (run_id) FROM {{table}} WHERE run_id = $run_id;
