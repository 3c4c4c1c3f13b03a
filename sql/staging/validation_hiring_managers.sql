-- Validation frame for expectations/hiring_managers.json: staging.hiring_managers plus
-- helper columns that the suite's expectations test.  One row per staged row;
-- _row_id identifies the row in GX's unexpected_index_list.
CREATE OR REPLACE TEMP TABLE validation_hiring_managers AS
WITH s AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM staging.hiring_managers
), k AS (
    SELECT *,
        row_number() OVER (PARTITION BY manager_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
        count(DISTINCT _content) OVER (PARTITION BY manager_id) AS _versions
    FROM s
)
SELECT k.* EXCLUDE (_content, _copy_no, _versions, _cast_errors),
    row_number() OVER (ORDER BY k._sha256, k._row_number) AS _row_id,
    (k.manager_id IS NULL OR k._copy_no = 1)                             AS _not_exact_copy,
    (k.manager_id IS NULL OR k._versions = 1)                            AS _key_consistent,
    CASE WHEN k.ethnic_category IS NULL OR list_contains($unknown_codes, k.ethnic_category) THEN 1.0 ELSE 0.0 END
                                                                              AS _ethnicity_unknown
FROM k;
