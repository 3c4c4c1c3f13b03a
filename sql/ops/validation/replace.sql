DELETE FROM results.validation WHERE run_id = $run_id;
INSERT INTO results.validation BY NAME SELECT * FROM {{frame}};
