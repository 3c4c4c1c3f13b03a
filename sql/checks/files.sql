-- The current extract set with what landing recorded about each file.
SELECT e.table_name, e.sha256, e.file_name, m.encoding, m.file_format, m.row_count
FROM meta.extract_set e LEFT JOIN landing.manifest m ON m.sha256 = e.sha256
ORDER BY e.table_name, e.file_name;
