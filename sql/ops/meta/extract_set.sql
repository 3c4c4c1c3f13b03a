-- The extract set staging was last built from: one row per file.
SELECT table_name, sha256, file_name FROM meta.extract_set ORDER BY table_name, file_name;
