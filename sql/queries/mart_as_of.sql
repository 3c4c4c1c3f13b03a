-- Point-in-time read of one mart for an analysis: only records dated on or before
-- the end of the run's as_of month ($as_of_end), optionally from the start of the
-- analysis window ($window_start), in lineage order (source file hash, row number;
-- then the mart's keys for ties): the same order whatever the pseudonymisation key.
SELECT {{columns}}
FROM marts.{{mart}}
WHERE {{as_of_filter}} AND ({{window_filter}})
ORDER BY {{order_by}};
