SELECT table_name FROM information_schema.tables
WHERE table_schema = 'published' ORDER BY table_name;
