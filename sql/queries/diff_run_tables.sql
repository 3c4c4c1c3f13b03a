-- Tables of a schema that carry run_id (for `edi-recruit diff`); results.runs is the registry, not a result.
SELECT c.table_name
FROM information_schema.columns AS c
JOIN information_schema.tables AS t
  ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = $schema AND c.column_name = 'run_id'
  AND t.table_type = 'BASE TABLE' AND c.table_name <> 'runs'
ORDER BY c.table_name;
