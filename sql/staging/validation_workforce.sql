-- Validation frame for expectations/workforce.json (see validation_hiring_managers.sql).
CREATE OR REPLACE TEMP TABLE validation_workforce AS
WITH s AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM staging.workforce
), k AS (
    SELECT *,
        row_number() OVER (PARTITION BY snapshot_month, staff_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
        count(DISTINCT _content) OVER (PARTITION BY snapshot_month, staff_id) AS _versions
    FROM s
)
SELECT k.* EXCLUDE (_content, _copy_no, _versions, _cast_errors),
    row_number() OVER (ORDER BY k._sha256, k._row_number) AS _row_id,
    (k.snapshot_month IS NULL OR k.staff_id IS NULL OR k._copy_no = 1)        AS _not_exact_copy,
    (k.snapshot_month IS NULL OR k.staff_id IS NULL OR k._versions = 1)       AS _key_consistent,
    (k.snapshot_month IS NULL OR k.snapshot_month >= $window_start)           AS _snapshot_month_in_window,
    (k.snapshot_month IS NULL OR k.snapshot_month <= CAST(m.landed_at AS DATE)) AS _snapshot_month_not_future,
    (k.snapshot_month IS NULL OR k.snapshot_month <= $as_of_end)              AS _snapshot_month_by_as_of,
    CASE WHEN k.ethnic_category IS NULL OR list_contains($unknown_codes, k.ethnic_category) THEN 1.0 ELSE 0.0 END
                                                                              AS _ethnicity_unknown
FROM k
LEFT JOIN landing.manifest m ON m.sha256 = k._sha256;
