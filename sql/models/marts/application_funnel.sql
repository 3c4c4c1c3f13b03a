-- One row per staged application, with candidate groups and vacancy features.  The status flags
-- are final; tasks/marts.py load_mart turns them into each status as of a run's month (status dates).
CREATE OR REPLACE TABLE marts.application_funnel AS
SELECT
    a.application_id, a.vacancy_id, a.candidate_id, a.staff_id, a.applied_date,
    a.ethnic_category,
    edi_main_code(a.ethnic_category)                                 AS ethnic_main_code,
    e.census_group, e.wres_group,
    CASE e.wres_group WHEN 'BME' THEN 1 WHEN 'White' THEN 0 END      AS bme,
    a.sex,
    CASE WHEN a.sex = 'Female' THEN 1 WHEN a.sex = 'Male' THEN 0 END AS female,
    a.age_band,
    a.disability                                                     AS disability_status,
    CASE a.disability WHEN 'Yes' THEN 1 WHEN 'No' THEN 0 END         AS disability,
    CAST(coalesce(a.internal, FALSE) AS INTEGER)                     AS internal,
    a.current_band,
    CAST(a.shortlisted AS INTEGER)    AS shortlisted,
    CAST(a.interviewed AS INTEGER)    AS interviewed,
    CAST(a.offered AS INTEGER)        AS offered,
    CAST(a.offer_declined AS INTEGER) AS offer_declined,
    CAST(a.appointed AS INTEGER)      AS appointed,
    a.withdrawn_stage,
    a.shortlisted_date, a.interviewed_date, a.offered_date, a.declined_date, a.appointed_date,
    a.withdrawn_date,
    v.band, v.directorate, v.staff_group, v.advert_date, v.closing_date, v.advert_month,
    v.posts, v.hiring_manager_id, v.manager_ethnic_category, v.manager_wres_group,
    v.manager_bme, v.manager_sex, v.manager_female, v.letter_to_ceo, v.letter_received,
    v.panel_size, v.panel_female_members, v.panel_bme_members, v.diverse_panel, v.post_programme,
    edi_lineage(a._sha256, a._row_number)                            AS _lineage
FROM staging.applications a
JOIN marts.vacancy_features v ON v.vacancy_id = a.vacancy_id
LEFT JOIN meta.ethnic_category e ON e.code = edi_main_code(a.ethnic_category);
