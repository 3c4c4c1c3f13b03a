-- Old pseudonym -> new pseudonym of one identifier column of staging.{{table}}, from the raw
-- identifier it was made from (before staging is re-keyed).
SELECT DISTINCT s.{{column}} AS old_id, edi_pseudo($prefix, src.{{source_column}}, $key) AS new_id
FROM staging.{{table}} s
JOIN {{source}} src ON src._sha256 = s._sha256 AND src._row_number = s._row_number
WHERE s.{{column}} IS NOT NULL;
