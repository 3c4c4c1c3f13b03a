-- the CHECK constraint on results.runs.status (warehouses made before 'abandoned' existed lack it)
SELECT constraint_text
FROM duckdb_constraints()
WHERE schema_name = 'results' AND table_name = 'runs' AND constraint_type = 'CHECK';
