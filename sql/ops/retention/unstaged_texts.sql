-- One landed file's raw free text with no staged (redacted) row: quarantined rows, rows the
-- validation gate moved out of staging, and files no longer in the current extract set.
SELECT r._row_number, r.{{text_column}} AS text
FROM raw.{{table}} r
WHERE r._sha256 = $sha256 AND r.{{text_column}} IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM staging.{{table}} s WHERE s._sha256 = r._sha256 AND s._row_number = r._row_number)
ORDER BY r._row_number;
