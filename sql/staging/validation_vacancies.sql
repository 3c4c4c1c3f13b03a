-- Validation frame for expectations/vacancies.json (see validation_hiring_managers.sql).
CREATE OR REPLACE TEMP TABLE validation_vacancies AS
WITH s AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM staging.vacancies
), k AS (
    SELECT *,
        row_number() OVER (PARTITION BY vacancy_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
        count(DISTINCT _content) OVER (PARTITION BY vacancy_id) AS _versions
    FROM s
)
SELECT k.* EXCLUDE (_content, _copy_no, _versions, _cast_errors),
    row_number() OVER (ORDER BY k._sha256, k._row_number) AS _row_id,
    (k.vacancy_id IS NULL OR k._copy_no = 1)                                  AS _not_exact_copy,
    (k.vacancy_id IS NULL OR k._versions = 1)                                 AS _key_consistent,
    (k.advert_date IS NULL OR k.closing_date IS NULL OR k.closing_date >= k.advert_date)
                                                                              AS _closing_not_before_advert,
    (k.advert_date IS NULL OR k.closing_date IS NULL OR k.closing_date <= k.advert_date + INTERVAL 366 DAY)
                                                                              AS _closing_within_a_year,
    (k.advert_date IS NULL OR k.advert_date >= $window_start)                 AS _advert_date_in_window,
    (k.closing_date IS NULL OR k.closing_date >= $window_start)               AS _closing_date_in_window,
    (k.advert_date IS NULL OR k.advert_date <= CAST(m.landed_at AS DATE))     AS _advert_date_not_future,
    (k.advert_date IS NULL OR k.advert_date <= $as_of_end)                    AS _advert_date_by_as_of,
    (k.hiring_manager_id IS NULL OR EXISTS (
        SELECT 1 FROM staging.hiring_managers h WHERE h.manager_id = k.hiring_manager_id))
                                                                              AS _manager_found,
    (k.job_title IS NOT NULL)                                                 AS _job_title_present,
    coalesce(regexp_matches(k.job_title, $formula_pattern), FALSE) = FALSE    AS _job_title_not_formula,
    coalesce(length(k.job_title), 0)                                          AS _job_title_length
FROM k
LEFT JOIN landing.manifest m ON m.sha256 = k._sha256;
