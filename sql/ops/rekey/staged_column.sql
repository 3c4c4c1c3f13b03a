-- Re-key one pseudonymous column of staging.{{table}} from the raw identifier it was
-- made from ({{source}}: the current extract set's raw rows under canonical names).
UPDATE staging.{{table}} AS s
SET {{column}} = edi_pseudo($prefix, src.{{source_column}}, $key)
FROM {{source}} src
WHERE src._sha256 = s._sha256 AND src._row_number = s._row_number;
