-- Identifier columns of the results and published tables (base tables; the latest_* views follow them).
SELECT c.table_schema, c.table_name, c.column_name
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
WHERE c.table_schema IN ('results', 'published') AND t.table_type = 'BASE TABLE'
  AND list_contains($names, c.column_name)
ORDER BY 1, 2, 3;
