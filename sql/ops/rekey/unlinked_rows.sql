-- Staged rows of staging.{{table}} whose raw row is gone from the current extract set
-- (their identifiers could not be recomputed under a new key).
SELECT count(*) FROM staging.{{table}} s
WHERE NOT EXISTS (SELECT 1 FROM {{source}} src WHERE src._sha256 = s._sha256 AND src._row_number = s._row_number);
