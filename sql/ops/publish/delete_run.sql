-- Re-publishing a run replaces its rows (results stay append-only across runs).
DELETE FROM {{table}} WHERE run_id = $run_id;
