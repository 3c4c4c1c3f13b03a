-- Validation frame for expectations/applications.json (see validation_hiring_managers.sql).
-- Referential checks look at staging.vacancies AFTER its own quarantine, so an
-- application of a quarantined vacancy is quarantined too (reason says so).
CREATE OR REPLACE TEMP TABLE validation_applications AS
WITH s AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM staging.applications
), k AS (
    SELECT *,
        row_number() OVER (PARTITION BY application_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
        count(DISTINCT _content) OVER (PARTITION BY application_id) AS _versions
    FROM s
), v AS (
    SELECT vacancy_id, min(advert_date) AS advert_date, max(closing_date) AS closing_date
    FROM staging.vacancies GROUP BY vacancy_id
)
SELECT k.* EXCLUDE (_content, _copy_no, _versions, _cast_errors),
    row_number() OVER (ORDER BY k._sha256, k._row_number) AS _row_id,
    (k.application_id IS NULL OR k._copy_no = 1)                              AS _not_exact_copy,
    (k.application_id IS NULL OR k._versions = 1)                             AS _key_consistent,
    (k.vacancy_id IS NULL OR v.vacancy_id IS NOT NULL)                        AS _vacancy_found,
    ((NOT k.appointed OR k.offered) AND (NOT k.offered OR k.interviewed)
        AND (NOT k.interviewed OR k.shortlisted) AND (NOT k.offer_declined OR k.offered)
        AND NOT (k.appointed AND k.offer_declined))                           AS _stages_consistent,
    (k.applied_date IS NULL OR v.advert_date IS NULL
        OR (k.applied_date >= v.advert_date AND (v.closing_date IS NULL OR k.applied_date <= v.closing_date)))
                                                                              AS _applied_within_advert,
    (k.applied_date IS NULL OR k.applied_date >= $window_start)               AS _applied_date_in_window,
    (k.applied_date IS NULL OR k.applied_date <= CAST(m.landed_at AS DATE))   AS _applied_date_not_future,
    (k.applied_date IS NULL OR k.applied_date <= $as_of_end)                  AS _applied_date_by_as_of,
    CASE WHEN k.ethnic_category IS NULL OR list_contains($unknown_codes, k.ethnic_category) THEN 1.0 ELSE 0.0 END
                                                                              AS _ethnicity_unknown
FROM k
LEFT JOIN v ON v.vacancy_id = k.vacancy_id
LEFT JOIN landing.manifest m ON m.sha256 = k._sha256;
