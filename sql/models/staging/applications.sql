CREATE OR REPLACE TABLE staging.applications AS
SELECT
    edi_pseudo('A', application_id, $key)            AS application_id,
    edi_pseudo('V', vacancy_id, $key)                AS vacancy_id,
    edi_pseudo('C', candidate_id, $key)              AS candidate_id,
    edi_pseudo('S', staff_id, $key)                  AS staff_id,
    edi_date(applied_date, $date_format)             AS applied_date,
    edi_ethnic(ethnic_category)                      AS ethnic_category,
    edi_sex(sex)                                     AS sex,
    edi_blank(age_band)                              AS age_band,
    coalesce(edi_blank(disability), 'Not declared')  AS disability,
    edi_bool(internal, $trues, $falses)              AS internal,
    CASE WHEN upper(edi_blank(current_band)) IN ('EXTERNAL', 'N/A', 'NA') THEN NULL
         ELSE edi_band(current_band) END             AS current_band,
    coalesce(edi_bool(shortlisted, $trues, $falses), FALSE)    AS shortlisted,
    coalesce(edi_bool(interviewed, $trues, $falses), FALSE)    AS interviewed,
    coalesce(edi_bool(offered, $trues, $falses), FALSE)        AS offered,
    coalesce(edi_bool(offer_declined, $trues, $falses), FALSE) AS offer_declined,
    coalesce(edi_bool(appointed, $trues, $falses), FALSE)      AS appointed,
    lower(edi_blank(withdrawn_stage))                AS withdrawn_stage,
    concat_ws(', ',
        edi_bad('applied_date', applied_date, edi_date(applied_date, $date_format)),
        edi_bad('internal', internal, edi_bool(internal, $trues, $falses)),
        edi_bad('shortlisted', shortlisted, edi_bool(shortlisted, $trues, $falses)),
        edi_bad('interviewed', interviewed, edi_bool(interviewed, $trues, $falses)),
        edi_bad('offered', offered, edi_bool(offered, $trues, $falses)),
        edi_bad('offer_declined', offer_declined, edi_bool(offer_declined, $trues, $falses)),
        edi_bad('appointed', appointed, edi_bool(appointed, $trues, $falses))
    )                                                AS _cast_errors,
    _sha256, _row_number
FROM {{source}};
