CREATE OR REPLACE TABLE staging.panel_members AS
SELECT
    edi_pseudo('V', vacancy_id, $key)  AS vacancy_id,
    edi_pseudo('P', member_id, $key)   AS member_id,
    edi_ethnic(ethnic_category)        AS ethnic_category,
    edi_sex(sex)                       AS sex,
    edi_blank(role)                    AS role,
    ''                                 AS _cast_errors,
    _sha256, _row_number
FROM {{source}};
