-- Validation frame for expectations/applications.json (see validation_hiring_managers.sql).
-- Referential checks look at staging.vacancies AFTER its own quarantine, so an
-- application of a quarantined vacancy is quarantined too (reason says so).
CREATE OR REPLACE TEMP TABLE validation_key_copies AS
WITH dup AS (
    -- keys held by more than one row, grouped by their hash (a collision only adds rows to check)
    SELECT hash(application_id) AS _key_hash FROM staging.applications
    WHERE application_id IS NOT NULL
    GROUP BY _key_hash HAVING count(*) > 1
), c AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM (SELECT s.* FROM staging.applications s
          WHERE application_id IS NOT NULL AND hash(application_id) IN (SELECT _key_hash FROM dup))
)
SELECT _sha256, _row_number,
    row_number() OVER (PARTITION BY application_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
    count(DISTINCT _content) OVER (PARTITION BY application_id) AS _versions
FROM c;
WITH v AS (
    SELECT vacancy_id, min(advert_date) AS advert_date, max(closing_date) AS closing_date
    FROM staging.vacancies GROUP BY vacancy_id
)
SELECT s.* EXCLUDE (_sha256, _row_number, _cast_errors),
    f.file_no * 4294967296 + s._row_number                                    AS _row_id,
    coalesce(d._copy_no, 1) = 1                                               AS _not_exact_copy,
    coalesce(d._versions, 1) = 1                                              AS _key_consistent,
    (s.vacancy_id IS NULL OR v.vacancy_id IS NOT NULL)                        AS _vacancy_found,
    ((NOT s.appointed OR s.offered) AND (NOT s.offered OR s.interviewed)
        AND (NOT s.interviewed OR s.shortlisted) AND (NOT s.offer_declined OR s.offered)
        AND NOT (s.appointed AND s.offer_declined))                           AS _stages_consistent,
    (s.applied_date IS NULL OR v.advert_date IS NULL
        OR (s.applied_date >= v.advert_date AND (v.closing_date IS NULL OR s.applied_date <= v.closing_date)))
                                                                              AS _applied_within_advert,
    (s.applied_date IS NULL OR s.applied_date >= $window_start)               AS _applied_date_in_window,
    (s.applied_date IS NULL OR s.applied_date <= CAST(m.landed_at AS DATE))   AS _applied_date_not_future,
    (s.applied_date IS NULL OR s.applied_date <= $as_of_end)                  AS _applied_date_by_as_of,
    CAST(s.ethnic_category IS NULL OR list_contains($unknown_codes, s.ethnic_category) AS DOUBLE)
                                                                              AS _ethnicity_unknown
FROM staging.applications s
JOIN validation_row_files f ON f._sha256 = s._sha256
LEFT JOIN validation_key_copies d ON d._sha256 = s._sha256 AND d._row_number = s._row_number
LEFT JOIN v ON v.vacancy_id = s.vacancy_id
LEFT JOIN landing.manifest m ON m.sha256 = s._sha256;
