-- Rows that cannot be staged: malformed lines (e.g. a truncated last line) and
-- non-blank values that fail to parse.  Further row-level checks are the
-- validation gate's (expectations/).
CREATE OR REPLACE TEMP TABLE {{rejects}} AS
SELECT s._sha256, s._row_number,
       CASE WHEN src._malformed IS NOT NULL THEN 'row_well_formed' ELSE 'values_parse' END AS expectation,
       CASE WHEN src._malformed IS NOT NULL THEN 'malformed row: ' || src._malformed
            ELSE 'could not parse ' || s._cast_errors END AS reason
FROM staging.{{table}} s
JOIN {{source}} src ON src._sha256 = s._sha256 AND src._row_number = s._row_number
WHERE src._malformed IS NOT NULL OR coalesce(s._cast_errors, '') <> '';
