-- Rows of one run from a results table (publish reads back what it stored; `edi-recruit diff` compares them).
SELECT * FROM {{table}} WHERE run_id = $run_id;
