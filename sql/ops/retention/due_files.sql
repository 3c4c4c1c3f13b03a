-- Landed files whose personal data is due for removal: landed before $cutoff, or followed by at
-- least $runs completed runs (results.runs), and not done yet.
SELECT m.sha256, m.table_name, m.file_name, m.landed_path
FROM landing.manifest m
WHERE m.sha256 NOT IN (SELECT sha256 FROM meta.retention)
  AND ((CAST($cutoff AS TIMESTAMP) IS NOT NULL AND m.landed_at < CAST($cutoff AS TIMESTAMP))
       OR (CAST($runs AS INTEGER) IS NOT NULL
           AND (SELECT count(*) FROM results.runs r
                WHERE r.status = 'completed' AND r.started_at > m.landed_at) >= CAST($runs AS INTEGER)))
ORDER BY m.landed_at, m.sha256;
