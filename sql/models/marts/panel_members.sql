CREATE OR REPLACE TABLE marts.panel_members AS
SELECT
    p.vacancy_id, p.member_id, p.role, p.ethnic_category, e.census_group, e.wres_group,
    CASE e.wres_group WHEN 'BME' THEN 1 WHEN 'White' THEN 0 END      AS member_bme,
    p.sex,
    CASE WHEN p.sex = 'Female' THEN 1 WHEN p.sex = 'Male' THEN 0 END AS member_female,
    v.advert_date,
    edi_lineage(p._sha256, p._row_number)                            AS _lineage
FROM staging.panel_members p
JOIN staging.vacancies v ON v.vacancy_id = p.vacancy_id
LEFT JOIN meta.ethnic_category e ON e.code = edi_main_code(p.ethnic_category);
