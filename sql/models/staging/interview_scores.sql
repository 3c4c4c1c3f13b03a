CREATE OR REPLACE TABLE staging.interview_scores AS
SELECT
    edi_pseudo('A', application_id, $key)  AS application_id,
    edi_pseudo('P', member_id, $key)       AS member_id,
    edi_blank(criterion)                   AS criterion,
    edi_number(score)                      AS score,
    edi_number(max_score)                  AS max_score,
    concat_ws(', ',
        edi_bad('score', score, edi_number(score)),
        edi_bad('max_score', max_score, edi_number(max_score))
    )                                      AS _cast_errors,
    _sha256, _row_number
FROM {{source}};
