-- Point-in-time read of one mart for an analysis: only records dated on or before
-- the end of the run's as_of month ($as_of_end), optionally from the start of the
-- analysis window ($window_start), in the mart's key order (deterministic input).
SELECT {{columns}}
FROM marts.{{mart}}
WHERE {{as_of_filter}} AND ({{window_filter}})
ORDER BY {{order_by}};
