-- Validation frame for expectations/interview_scores.json (see validation_hiring_managers.sql).
-- A score must belong to a staged application and to a member of that vacancy's panel.
CREATE OR REPLACE TEMP TABLE validation_interview_scores AS
WITH s AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM staging.interview_scores
), k AS (
    SELECT *,
        row_number() OVER (PARTITION BY application_id, member_id, criterion, _content ORDER BY _sha256, _row_number) AS _copy_no,
        count(DISTINCT _content) OVER (PARTITION BY application_id, member_id, criterion) AS _versions
    FROM s
), apps AS (
    SELECT DISTINCT application_id FROM staging.applications
), panel AS (
    SELECT DISTINCT a.application_id, p.member_id
    FROM staging.applications a JOIN staging.panel_members p ON p.vacancy_id = a.vacancy_id
)
SELECT k.* EXCLUDE (_content, _copy_no, _versions, _cast_errors),
    row_number() OVER (ORDER BY k._sha256, k._row_number) AS _row_id,
    (k.application_id IS NULL OR k.member_id IS NULL OR k.criterion IS NULL OR k._copy_no = 1)  AS _not_exact_copy,
    (k.application_id IS NULL OR k.member_id IS NULL OR k.criterion IS NULL OR k._versions = 1) AS _key_consistent,
    (k.application_id IS NULL OR a.application_id IS NOT NULL)               AS _application_found,
    (k.application_id IS NULL OR k.member_id IS NULL OR a.application_id IS NULL
        OR p.member_id IS NOT NULL)                                          AS _member_on_panel,
    (k.score IS NULL OR k.score >= 0)                                        AS _score_not_negative,
    (k.score IS NULL OR k.max_score IS NULL OR k.score <= k.max_score)       AS _score_within_max,
    (k.max_score IS NULL OR k.max_score > 0)                                 AS _max_score_positive
FROM k
LEFT JOIN apps a ON a.application_id = k.application_id
LEFT JOIN panel p ON p.application_id = k.application_id AND p.member_id = k.member_id;
