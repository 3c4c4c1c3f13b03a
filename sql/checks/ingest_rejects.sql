-- Rows quarantined by ingest (malformed lines, unparseable values, over-long texts) for this extract set, per expectation.
SELECT q.expectation, count(*) AS n, list(q._row_number ORDER BY q._row_number)[1:5] AS sample_rows,
       list(DISTINCT e.file_name) AS files, min(q.reason) AS example_reason
FROM quarantine.{{table}} q
JOIN meta.extract_set e ON e.sha256 = q._sha256 AND e.table_name = $table_name
WHERE q.expectation IN ('row_well_formed', 'values_parse', 'text_length_limit')
GROUP BY q.expectation;
