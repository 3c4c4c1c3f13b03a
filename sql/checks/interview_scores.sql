-- Validation frame for expectations/interview_scores.json (see validation_hiring_managers.sql).
-- A score must belong to a staged application and to a member of that vacancy's panel.
CREATE OR REPLACE TEMP TABLE validation_key_copies AS
WITH dup AS (
    -- keys held by more than one row, grouped by their hash (a collision only adds rows to check)
    SELECT hash(application_id, member_id, criterion) AS _key_hash FROM staging.interview_scores
    WHERE application_id IS NOT NULL AND member_id IS NOT NULL AND criterion IS NOT NULL
    GROUP BY _key_hash HAVING count(*) > 1
), c AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors))) AS _content
    FROM (SELECT s.* FROM staging.interview_scores s
          WHERE application_id IS NOT NULL AND member_id IS NOT NULL AND criterion IS NOT NULL AND hash(application_id, member_id, criterion) IN (SELECT _key_hash FROM dup))
)
SELECT _sha256, _row_number,
    row_number() OVER (PARTITION BY application_id, member_id, criterion, _content ORDER BY _sha256, _row_number) AS _copy_no,
    count(DISTINCT _content) OVER (PARTITION BY application_id, member_id, criterion) AS _versions
FROM c;
WITH apps AS (
    SELECT DISTINCT application_id FROM staging.applications
)
SELECT s.* EXCLUDE (_sha256, _row_number, _cast_errors),
    f.file_no * 4294967296 + s._row_number                                    AS _row_id,
    coalesce(d._copy_no, 1) = 1                                               AS _not_exact_copy,
    coalesce(d._versions, 1) = 1                                              AS _key_consistent,
    (s.application_id IS NULL OR a.application_id IS NOT NULL)               AS _application_found,
    (s.application_id IS NULL OR s.member_id IS NULL OR a.application_id IS NULL
        OR EXISTS (SELECT 1 FROM staging.applications x
                   JOIN staging.panel_members p ON p.vacancy_id = x.vacancy_id
                   WHERE x.application_id = s.application_id AND p.member_id = s.member_id))
                                                                             AS _member_on_panel,
    (s.score IS NULL OR s.score >= 0)                                        AS _score_not_negative,
    (s.score IS NULL OR s.max_score IS NULL OR s.score <= s.max_score)       AS _score_within_max,
    (s.max_score IS NULL OR s.max_score > 0)                                 AS _max_score_positive
FROM staging.interview_scores s
JOIN validation_row_files f ON f._sha256 = s._sha256
LEFT JOIN validation_key_copies d ON d._sha256 = s._sha256 AND d._row_number = s._row_number
LEFT JOIN apps a ON a.application_id = s.application_id;
