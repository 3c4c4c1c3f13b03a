-- Rows of one run from a published table (the report and exports read only these).
SELECT * FROM {{table}} WHERE run_id = $run_id;
