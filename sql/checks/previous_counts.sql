-- The latest other run's staged row count per table (drift baseline).
SELECT table_name, row_count
FROM meta.validation_row_counts
WHERE run_id <> $run_id
QUALIFY row_number() OVER (PARTITION BY table_name ORDER BY validated_at DESC) = 1;
