DELETE FROM {{table}} WHERE run_id = $run_id;
