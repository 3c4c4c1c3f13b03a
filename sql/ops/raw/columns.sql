SELECT column_name FROM information_schema.columns
WHERE table_schema = 'raw' AND table_name = $table_name
ORDER BY ordinal_position;
