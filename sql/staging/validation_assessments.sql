-- Validation frame for expectations/assessments.json (see validation_hiring_managers.sql).
-- The text itself stays in DuckDB: only its length and flags go to the frame.
CREATE OR REPLACE TEMP TABLE validation_assessments AS
WITH s AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors, n_redactions))) AS _content
    FROM staging.assessments
), k AS (
    SELECT *,
        row_number() OVER (PARTITION BY application_id, author_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
        count(DISTINCT _content) OVER (PARTITION BY application_id, author_id) AS _versions
    FROM s
), apps AS (
    SELECT DISTINCT application_id FROM staging.applications
), panel AS (
    SELECT DISTINCT a.application_id, p.member_id
    FROM staging.applications a JOIN staging.panel_members p ON p.vacancy_id = a.vacancy_id
)
SELECT k.* EXCLUDE (_content, _copy_no, _versions, _cast_errors, text),
    row_number() OVER (ORDER BY k._sha256, k._row_number) AS _row_id,
    (k.application_id IS NULL OR k.author_id IS NULL OR k._copy_no = 1)      AS _not_exact_copy,
    (k.application_id IS NULL OR k.author_id IS NULL OR k._versions = 1)     AS _key_consistent,
    (k.application_id IS NULL OR a.application_id IS NOT NULL)               AS _application_found,
    (k.application_id IS NULL OR k.author_id IS NULL OR a.application_id IS NULL
        OR p.member_id IS NOT NULL)                                          AS _author_on_panel,
    (nullif(trim(k.text), '') IS NOT NULL)                                   AS _text_present,
    coalesce(length(k.text), 0)                                              AS _text_length,
    coalesce(regexp_matches(k.text, $formula_pattern), FALSE) = FALSE        AS _text_not_formula,
    (k.written_date IS NULL OR k.written_date >= $window_start)              AS _written_date_in_window,
    (k.written_date IS NULL OR k.written_date <= CAST(m.landed_at AS DATE))  AS _written_date_not_future,
    (k.written_date IS NULL OR k.written_date <= $as_of_end)                 AS _written_date_by_as_of
FROM k
LEFT JOIN apps a ON a.application_id = k.application_id
LEFT JOIN panel p ON p.application_id = k.application_id AND p.member_id = k.author_id
LEFT JOIN landing.manifest m ON m.sha256 = k._sha256;
