-- One score sheet per (application, panel member): normalised_score = sum(score)/sum(max_score) over the
-- criteria scored. A blank (null) score is not scored: it is left out of n_criteria and of both sums, so the
-- sheet is partial and the partial-sheet rule decides it (docs/methods.md section 3); nothing is imputed.
CREATE OR REPLACE TABLE marts.score_sheets AS
SELECT
    s.application_id, a.vacancy_id, s.member_id,
    count(s.score)                          AS n_criteria,
    sum(s.score)                            AS score_sum,
    sum(s.max_score) FILTER (WHERE s.score IS NOT NULL) AS max_score_sum,
    sum(s.score) / nullif(sum(s.max_score) FILTER (WHERE s.score IS NOT NULL), 0) AS normalised_score,
    any_value(p.wres_group)                 AS member_wres_group,
    any_value(p.member_bme)                 AS member_bme,
    any_value(p.member_female)              AS member_female,
    any_value(p.role)                       AS member_role,
    any_value(a.advert_date)                AS advert_date,
    any_value(a.applied_date)               AS applied_date,
    any_value(a.interviewed_date)           AS interviewed_date,
    min(edi_lineage(s._sha256, s._row_number)) AS _lineage
FROM staging.interview_scores s
JOIN marts.application_funnel a ON a.application_id = s.application_id
LEFT JOIN marts.panel_members p ON p.vacancy_id = a.vacancy_id AND p.member_id = s.member_id
GROUP BY s.application_id, a.vacancy_id, s.member_id;
