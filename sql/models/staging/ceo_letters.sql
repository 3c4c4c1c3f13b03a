CREATE OR REPLACE TABLE staging.ceo_letters AS
SELECT
    edi_pseudo('V', vacancy_id, $key)      AS vacancy_id,
    edi_date(written_date, $date_format)   AS written_date,
    CAST(NULL AS VARCHAR)                  AS text,
    CAST(NULL AS INTEGER)                  AS n_redactions,
    concat_ws(', ', edi_bad('written_date', written_date, edi_date(written_date, $date_format))) AS _cast_errors,
    _sha256, _row_number
FROM {{source}};
