-- raw -> staging.vacancies: typed, normalised, pseudonymised.  {{source}} is the raw
-- table of the current extract set with its headers mapped to canonical names.
CREATE OR REPLACE TABLE staging.vacancies AS
WITH typed AS (
    SELECT
        edi_pseudo('V', vacancy_id, $key)                AS vacancy_id,
        edi_blank(job_title)                             AS job_title,
        edi_band(band)                                   AS band,
        edi_blank(directorate)                           AS directorate,
        edi_blank(staff_group)                           AS staff_group,
        edi_date(advert_date, $date_format)              AS advert_date,
        edi_date(closing_date, $date_format)             AS closing_date,
        edi_pseudo('P', hiring_manager_id, $key)         AS hiring_manager_id,
        edi_bool(letter_to_ceo, $trues, $falses)         AS letter_to_ceo,
        edi_bool(letter_received, $trues, $falses)       AS letter_received,
        TRY_CAST(edi_number(posts) AS INTEGER)           AS posts,
        concat_ws(', ',
            edi_bad('advert_date', advert_date, edi_date(advert_date, $date_format)),
            edi_bad('closing_date', closing_date, edi_date(closing_date, $date_format)),
            edi_bad('letter_to_ceo', letter_to_ceo, edi_bool(letter_to_ceo, $trues, $falses)),
            edi_bad('letter_received', letter_received, edi_bool(letter_received, $trues, $falses)),
            edi_bad('posts', posts, TRY_CAST(edi_number(posts) AS INTEGER))
        )                                                AS _cast_errors,
        _sha256, _row_number
    FROM {{source}}
)
SELECT * FROM typed;
