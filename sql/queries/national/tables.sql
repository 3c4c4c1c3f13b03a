SELECT table_name FROM information_schema.tables
WHERE table_schema = 'national_results' AND table_type = 'BASE TABLE' AND table_name <> 'runs'
ORDER BY table_name;
