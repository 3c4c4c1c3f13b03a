CREATE OR REPLACE TABLE staging.hiring_managers AS
SELECT
    edi_pseudo('P', manager_id, $key)  AS manager_id,
    edi_ethnic(ethnic_category)        AS ethnic_category,
    edi_sex(sex)                       AS sex,
    ''                                 AS _cast_errors,
    _sha256, _row_number
FROM {{source}};
