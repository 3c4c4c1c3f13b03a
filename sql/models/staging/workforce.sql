CREATE OR REPLACE TABLE staging.workforce AS
SELECT
    date_trunc('month', edi_month(snapshot_month, $date_format))::DATE AS snapshot_month,
    edi_pseudo('S', staff_id, $key)        AS staff_id,
    edi_band(band)                         AS band,
    edi_ethnic(ethnic_category)            AS ethnic_category,
    edi_sex(sex)                           AS sex,
    edi_blank(directorate)                 AS directorate,
    concat_ws(', ', edi_bad('snapshot_month', snapshot_month, edi_month(snapshot_month, $date_format))) AS _cast_errors,
    _sha256, _row_number
FROM {{source}};
