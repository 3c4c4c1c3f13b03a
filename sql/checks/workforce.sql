-- Validation frame for expectations/workforce.json (see validation_hiring_managers.sql).
CREATE OR REPLACE TEMP TABLE validation_key_copies AS
WITH dup AS (
    -- keys held by more than one row, grouped by their hash (a collision only adds rows to check)
    SELECT hash(snapshot_month, staff_id) AS _key_hash FROM staging.workforce
    WHERE snapshot_month IS NOT NULL AND staff_id IS NOT NULL
    GROUP BY _key_hash HAVING count(*) > 1
), c AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM (SELECT s.* FROM staging.workforce s
          WHERE snapshot_month IS NOT NULL AND staff_id IS NOT NULL AND hash(snapshot_month, staff_id) IN (SELECT _key_hash FROM dup))
)
SELECT _sha256, _row_number,
    row_number() OVER (PARTITION BY snapshot_month, staff_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
    count(DISTINCT _content) OVER (PARTITION BY snapshot_month, staff_id) AS _versions
FROM c;
SELECT s.* EXCLUDE (_sha256, _row_number, _cast_errors),
    f.file_no * 4294967296 + s._row_number                                    AS _row_id,
    coalesce(d._copy_no, 1) = 1                                               AS _not_exact_copy,
    coalesce(d._versions, 1) = 1                                              AS _key_consistent,
    (s.snapshot_month IS NULL OR s.snapshot_month >= $window_start)           AS _snapshot_month_in_window,
    (s.snapshot_month IS NULL OR s.snapshot_month <= CAST(m.landed_at AS DATE)) AS _snapshot_month_not_future,
    (s.snapshot_month IS NULL OR s.snapshot_month <= $as_of_end)              AS _snapshot_month_by_as_of,
    CAST(s.ethnic_category IS NULL OR list_contains($unknown_codes, s.ethnic_category) AS DOUBLE)
                                                                              AS _ethnicity_unknown
FROM staging.workforce s
JOIN validation_row_files f ON f._sha256 = s._sha256
LEFT JOIN validation_key_copies d ON d._sha256 = s._sha256 AND d._row_number = s._row_number
LEFT JOIN landing.manifest m ON m.sha256 = s._sha256;
