-- results.latest_<name>: the rows of the latest completed run for each as_of month
-- (latest by finished_at, then started_at, then run_id).
CREATE OR REPLACE VIEW {{view}} AS
WITH latest AS (
    SELECT as_of AS run_as_of,
           arg_max(run_id, struct_pack(f := finished_at, s := started_at, r := run_id)) AS run_id
    FROM results.runs
    WHERE status = 'completed'
    GROUP BY as_of
)
SELECT latest.run_as_of, t.*
FROM {{table}} AS t
JOIN latest ON t.run_id = latest.run_id;
