-- Validation frame for expectations/vacancies.json (see validation_hiring_managers.sql).
CREATE OR REPLACE TEMP TABLE validation_key_copies AS
WITH dup AS (
    -- keys held by more than one row, grouped by their hash (a collision only adds rows to check)
    SELECT hash(vacancy_id) AS _key_hash FROM staging.vacancies
    WHERE vacancy_id IS NOT NULL
    GROUP BY _key_hash HAVING count(*) > 1
), c AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM (SELECT s.* FROM staging.vacancies s
          WHERE vacancy_id IS NOT NULL AND hash(vacancy_id) IN (SELECT _key_hash FROM dup))
)
SELECT _sha256, _row_number,
    row_number() OVER (PARTITION BY vacancy_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
    count(DISTINCT _content) OVER (PARTITION BY vacancy_id) AS _versions
FROM c;
SELECT s.* EXCLUDE (_sha256, _row_number, _cast_errors),
    f.file_no * 4294967296 + s._row_number                                    AS _row_id,
    coalesce(d._copy_no, 1) = 1                                               AS _not_exact_copy,
    coalesce(d._versions, 1) = 1                                              AS _key_consistent,
    (s.advert_date IS NULL OR s.closing_date IS NULL OR s.closing_date >= s.advert_date)
                                                                              AS _closing_not_before_advert,
    (s.advert_date IS NULL OR s.closing_date IS NULL OR s.closing_date <= s.advert_date + INTERVAL 366 DAY)
                                                                              AS _closing_within_a_year,
    (s.advert_date IS NULL OR s.advert_date >= $window_start)                 AS _advert_date_in_window,
    (s.closing_date IS NULL OR s.closing_date >= $window_start)               AS _closing_date_in_window,
    (s.advert_date IS NULL OR s.advert_date <= CAST(m.landed_at AS DATE))     AS _advert_date_not_future,
    (s.advert_date IS NULL OR s.advert_date <= $as_of_end)                    AS _advert_date_by_as_of,
    (s.hiring_manager_id IS NULL OR EXISTS (
        SELECT 1 FROM staging.hiring_managers h WHERE h.manager_id = s.hiring_manager_id))
                                                                              AS _manager_found,
    (s.job_title IS NOT NULL)                                                 AS _job_title_present,
    coalesce(regexp_matches(s.job_title, $formula_pattern), FALSE) = FALSE    AS _job_title_not_formula,
    coalesce(length(s.job_title), 0)                                          AS _job_title_length
FROM staging.vacancies s
JOIN validation_row_files f ON f._sha256 = s._sha256
LEFT JOIN validation_key_copies d ON d._sha256 = s._sha256 AND d._row_number = s._row_number
LEFT JOIN landing.manifest m ON m.sha256 = s._sha256;
