-- national_results.latest_<name>: the rows of the latest completed national run for each as_of month.
CREATE OR REPLACE VIEW {{view}} AS
WITH latest AS (
    SELECT as_of AS run_as_of, arg_max(run_id, struct_pack(f := finished_at, r := run_id)) AS run_id
    FROM national_results.runs
    WHERE status = 'completed'
    GROUP BY as_of
)
SELECT t.*
FROM {{table}} AS t
JOIN latest ON t.run_id = latest.run_id;
