-- Validation frame for expectations/assessments.json (see validation_hiring_managers.sql).
-- The text itself stays in DuckDB: only its length and flags go to the frame.
CREATE OR REPLACE TEMP TABLE validation_key_copies AS
WITH dup AS (
    -- keys held by more than one row, grouped by their hash (a collision only adds rows to check)
    SELECT hash(application_id, author_id) AS _key_hash FROM staging.assessments
    WHERE application_id IS NOT NULL AND author_id IS NOT NULL
    GROUP BY _key_hash HAVING count(*) > 1
), c AS (
    SELECT *, hash(*COLUMNS(* EXCLUDE (_sha256, _row_number, _cast_errors, n_redactions))) AS _content
    FROM (SELECT s.* FROM staging.assessments s
          WHERE application_id IS NOT NULL AND author_id IS NOT NULL AND hash(application_id, author_id) IN (SELECT _key_hash FROM dup))
)
SELECT _sha256, _row_number,
    row_number() OVER (PARTITION BY application_id, author_id, _content ORDER BY _sha256, _row_number) AS _copy_no,
    count(DISTINCT _content) OVER (PARTITION BY application_id, author_id) AS _versions
FROM c;
WITH apps AS (
    SELECT DISTINCT application_id FROM staging.applications
)
SELECT s.* EXCLUDE (_sha256, _row_number, _cast_errors, text),
    f.file_no * 4294967296 + s._row_number                                    AS _row_id,
    coalesce(d._copy_no, 1) = 1                                               AS _not_exact_copy,
    coalesce(d._versions, 1) = 1                                              AS _key_consistent,
    (s.application_id IS NULL OR a.application_id IS NOT NULL)               AS _application_found,
    (s.application_id IS NULL OR s.author_id IS NULL OR a.application_id IS NULL
        OR EXISTS (SELECT 1 FROM staging.applications x
                   JOIN staging.panel_members p ON p.vacancy_id = x.vacancy_id
                   WHERE x.application_id = s.application_id AND p.member_id = s.author_id))
                                                                             AS _author_on_panel,
    (nullif(trim(s.text), '') IS NOT NULL)                                   AS _text_present,
    coalesce(length(s.text), 0)                                              AS _text_length,
    coalesce(regexp_matches(s.text, $formula_pattern), FALSE) = FALSE        AS _text_not_formula,
    (s.written_date IS NULL OR s.written_date >= $window_start)              AS _written_date_in_window,
    (s.written_date IS NULL OR s.written_date <= CAST(m.landed_at AS DATE))  AS _written_date_not_future,
    (s.written_date IS NULL OR s.written_date <= $as_of_end)                 AS _written_date_by_as_of
FROM staging.assessments s
JOIN validation_row_files f ON f._sha256 = s._sha256
LEFT JOIN validation_key_copies d ON d._sha256 = s._sha256 AND d._row_number = s._row_number
LEFT JOIN apps a ON a.application_id = s.application_id
LEFT JOIN landing.manifest m ON m.sha256 = s._sha256;
