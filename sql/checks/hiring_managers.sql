-- Validation frame for expectations/hiring_managers.json: staging.hiring_managers plus
-- helper columns that the suite's expectations test.  One row per staged row;
-- _row_id (see validation_row_files.sql, run first) identifies the row in GX's
-- unexpected_index_list.  The last statement returns the frame; it is streamed to
-- Arrow and never stored.
--
-- Key checks: only rows whose key is held by more than one row can be copies or
-- conflicts, so the content hash and the window functions run on those rows only
-- (validation_key_copies); every other row is neither.
CREATE OR REPLACE TEMP TABLE validation_key_copies AS
WITH dup AS (
    -- keys held by more than one row, grouped by their hash (a collision only adds rows to check)
    SELECT hash(manager_id) AS _key_hash FROM staging.hiring_managers
    WHERE manager_id IS NOT NULL
    GROUP BY _key_hash HAVING count(*) > 1
), c AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM (SELECT s.* FROM staging.hiring_managers s
          WHERE manager_id IS NOT NULL AND hash(manager_id) IN (SELECT _key_hash FROM dup))
)
SELECT _sha256, _row_number,
    row_number() OVER (PARTITION BY manager_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
    count(DISTINCT _content) OVER (PARTITION BY manager_id) AS _versions
FROM c;
SELECT s.* EXCLUDE (_sha256, _row_number, _cast_errors),
    f.file_no * 4294967296 + s._row_number                                    AS _row_id,
    coalesce(d._copy_no, 1) = 1                                               AS _not_exact_copy,
    coalesce(d._versions, 1) = 1                                              AS _key_consistent,
    CAST(s.ethnic_category IS NULL OR list_contains($unknown_codes, s.ethnic_category) AS DOUBLE)
                                                                              AS _ethnicity_unknown
FROM staging.hiring_managers s
JOIN validation_row_files f ON f._sha256 = s._sha256
LEFT JOIN validation_key_copies d ON d._sha256 = s._sha256 AND d._row_number = s._row_number;
