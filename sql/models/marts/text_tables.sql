-- Redacted free text only: raw text never leaves the raw layer.
CREATE OR REPLACE TABLE marts.assessment_texts AS
SELECT t.application_id, a.vacancy_id, t.author_id, t.written_date, a.advert_date, t.text, t.n_redactions,
       edi_lineage(t._sha256, t._row_number) AS _lineage
FROM staging.assessments t
JOIN marts.application_funnel a ON a.application_id = t.application_id;
CREATE OR REPLACE TABLE marts.ceo_letter_texts AS
SELECT t.vacancy_id, t.written_date, v.advert_date, t.text, t.n_redactions,
       edi_lineage(t._sha256, t._row_number) AS _lineage
FROM staging.ceo_letters t
JOIN marts.vacancy_features v ON v.vacancy_id = t.vacancy_id;
