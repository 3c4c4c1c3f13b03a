CREATE OR REPLACE TABLE marts.workforce AS
SELECT
    w.snapshot_month, w.staff_id, w.band, w.ethnic_category, e.census_group, e.wres_group,
    CASE e.wres_group WHEN 'BME' THEN 1 WHEN 'White' THEN 0 END      AS bme,
    w.sex,
    CASE WHEN w.sex = 'Female' THEN 1 WHEN w.sex = 'Male' THEN 0 END AS female,
    w.directorate,
    edi_lineage(w._sha256, w._row_number)                            AS _lineage
FROM staging.workforce w
LEFT JOIN meta.ethnic_category e ON e.code = edi_main_code(w.ethnic_category);
