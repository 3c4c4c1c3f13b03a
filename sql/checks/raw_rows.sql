-- Raw rows of one table in the current extract set: the denominator of the ingest checks.
SELECT count(*)
FROM raw.{{table}}
WHERE _sha256 IN (SELECT sha256 FROM meta.extract_set WHERE table_name = $table_name);
