-- raw text of the current extract set, keyed by lineage, for redaction in Python
SELECT _sha256, _row_number, text FROM {{source}} ORDER BY _sha256, _row_number;
