-- The files staging.{{table}} holds, numbered: a validation frame's _row_id is
-- file_no * 2^32 + _row_number, so a row id maps back to (_sha256, _row_number)
-- without sorting or keeping the frame in DuckDB.  Ids grow with (_sha256, _row_number).
CREATE OR REPLACE TEMP TABLE validation_row_files AS
SELECT _sha256, CAST(row_number() OVER (ORDER BY _sha256) - 1 AS BIGINT) AS file_no
FROM (SELECT DISTINCT _sha256 FROM staging.{{table}});
SELECT file_no, _sha256 FROM validation_row_files ORDER BY file_no;
