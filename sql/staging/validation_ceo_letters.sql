-- Validation frame for expectations/ceo_letters.json (see validation_hiring_managers.sql).
CREATE OR REPLACE TEMP TABLE validation_ceo_letters AS
WITH s AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors, n_redactions))) AS _content
    FROM staging.ceo_letters
), k AS (
    SELECT *,
        row_number() OVER (PARTITION BY vacancy_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
        count(DISTINCT _content) OVER (PARTITION BY vacancy_id) AS _versions
    FROM s
)
SELECT k.* EXCLUDE (_content, _copy_no, _versions, _cast_errors, text),
    row_number() OVER (ORDER BY k._sha256, k._row_number) AS _row_id,
    (k.vacancy_id IS NULL OR k._copy_no = 1)                                 AS _not_exact_copy,
    (k.vacancy_id IS NULL OR k._versions = 1)                                AS _key_consistent,
    (k.vacancy_id IS NULL OR EXISTS (
        SELECT 1 FROM staging.vacancies v WHERE v.vacancy_id = k.vacancy_id)) AS _vacancy_found,
    (nullif(trim(k.text), '') IS NOT NULL)                                   AS _text_present,
    coalesce(length(k.text), 0)                                              AS _text_length,
    coalesce(regexp_matches(k.text, $formula_pattern), FALSE) = FALSE        AS _text_not_formula,
    (k.written_date IS NULL OR k.written_date >= $window_start)              AS _written_date_in_window,
    (k.written_date IS NULL OR k.written_date <= CAST(m.landed_at AS DATE))  AS _written_date_not_future,
    (k.written_date IS NULL OR k.written_date <= $as_of_end)                 AS _written_date_by_as_of
FROM k
LEFT JOIN landing.manifest m ON m.sha256 = k._sha256;
