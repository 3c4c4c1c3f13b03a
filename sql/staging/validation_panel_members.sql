-- Validation frame for expectations/panel_members.json (see validation_hiring_managers.sql).
CREATE OR REPLACE TEMP TABLE validation_panel_members AS
WITH s AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM staging.panel_members
), k AS (
    SELECT *,
        row_number() OVER (PARTITION BY vacancy_id, member_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
        count(DISTINCT _content) OVER (PARTITION BY vacancy_id, member_id) AS _versions
    FROM s
)
SELECT k.* EXCLUDE (_content, _copy_no, _versions, _cast_errors),
    row_number() OVER (ORDER BY k._sha256, k._row_number) AS _row_id,
    (k.vacancy_id IS NULL OR k.member_id IS NULL OR k._copy_no = 1)      AS _not_exact_copy,
    (k.vacancy_id IS NULL OR k.member_id IS NULL OR k._versions = 1)     AS _key_consistent,
    (k.vacancy_id IS NULL OR EXISTS (
        SELECT 1 FROM staging.vacancies v WHERE v.vacancy_id = k.vacancy_id)) AS _vacancy_found,
    CASE WHEN k.ethnic_category IS NULL OR list_contains($unknown_codes, k.ethnic_category) THEN 1.0 ELSE 0.0 END
                                                                              AS _ethnicity_unknown
FROM k;
