-- text is copied here unredacted only inside this statement's transaction;
-- ingest redacts it before the transaction commits (tasks/ingest/).
CREATE OR REPLACE TABLE staging.assessments AS
SELECT
    edi_pseudo('A', application_id, $key)  AS application_id,
    edi_pseudo('P', author_id, $key)       AS author_id,
    edi_date(written_date, $date_format)   AS written_date,
    CAST(NULL AS VARCHAR)                  AS text,
    CAST(NULL AS INTEGER)                  AS n_redactions,
    concat_ws(', ', edi_bad('written_date', written_date, edi_date(written_date, $date_format))) AS _cast_errors,
    _sha256, _row_number
FROM {{source}};
