-- One row per vacancy with its programme features.  $programme_start is the
-- first day of the programme's first month.
CREATE OR REPLACE TABLE marts.vacancy_features AS
WITH panel AS (
    SELECT p.vacancy_id,
           count(*)                                               AS panel_size,
           count(*) FILTER (WHERE p.sex = 'Female')               AS panel_female_members,
           count(*) FILTER (WHERE e.wres_group = 'BME')           AS panel_bme_members
    FROM staging.panel_members p
    LEFT JOIN meta.ethnic_category e ON e.code = edi_main_code(p.ethnic_category)
    GROUP BY p.vacancy_id
), counts AS (
    SELECT vacancy_id,
           count(*)                                   AS n_applications,
           count(*) FILTER (WHERE shortlisted)        AS n_shortlisted,
           count(*) FILTER (WHERE interviewed)        AS n_interviewed,
           count(*) FILTER (WHERE offered)            AS n_offered,
           count(*) FILTER (WHERE appointed)          AS n_appointed
    FROM staging.applications GROUP BY vacancy_id
)
SELECT
    v.vacancy_id, v.band, v.directorate, v.staff_group, v.advert_date, v.closing_date,
    date_trunc('month', v.advert_date)::DATE                       AS advert_month,
    v.posts, v.hiring_manager_id,
    m.ethnic_category                                              AS manager_ethnic_category,
    me.wres_group                                                  AS manager_wres_group,
    CASE me.wres_group WHEN 'BME' THEN 1 WHEN 'White' THEN 0 END   AS manager_bme,
    m.sex                                                          AS manager_sex,
    CASE WHEN m.sex = 'Female' THEN 1 WHEN m.sex = 'Male' THEN 0 END AS manager_female,
    CAST(coalesce(v.letter_to_ceo, FALSE) AS INTEGER)              AS letter_to_ceo,
    CAST(coalesce(v.letter_received, FALSE) AS INTEGER)            AS letter_received,
    coalesce(panel.panel_size, 0)                                  AS panel_size,
    coalesce(panel.panel_female_members, 0)                        AS panel_female_members,
    coalesce(panel.panel_bme_members, 0)                           AS panel_bme_members,
    CASE WHEN coalesce(panel.panel_female_members, 0) >= 1
          AND coalesce(panel.panel_bme_members, 0) >= 1 THEN 1 ELSE 0 END AS diverse_panel,
    CASE WHEN v.advert_date >= $programme_start THEN 1 ELSE 0 END  AS post_programme,
    coalesce(c.n_applications, 0) AS n_applications, coalesce(c.n_shortlisted, 0) AS n_shortlisted,
    coalesce(c.n_interviewed, 0) AS n_interviewed, coalesce(c.n_offered, 0) AS n_offered,
    coalesce(c.n_appointed, 0) AS n_appointed,
    edi_lineage(v._sha256, v._row_number)                          AS _lineage
FROM staging.vacancies v
LEFT JOIN staging.hiring_managers m ON m.manager_id = v.hiring_manager_id
LEFT JOIN meta.ethnic_category me ON me.code = edi_main_code(m.ethnic_category)
LEFT JOIN panel ON panel.vacancy_id = v.vacancy_id
LEFT JOIN counts c ON c.vacancy_id = v.vacancy_id;
