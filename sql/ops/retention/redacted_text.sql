-- Replace one landed file's raw free text by the staged, redacted text (names known only from the
-- removed personal-data columns could not be found again by a later re-staging).
UPDATE raw.{{table}} AS r SET {{text_column}} = s.text
FROM staging.{{table}} s
WHERE r._sha256 = $sha256 AND s._sha256 = r._sha256 AND s._row_number = r._row_number;
