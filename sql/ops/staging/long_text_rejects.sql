-- Texts longer than the run's limit (max_text_chars): quarantined with their length, never
-- passed to redaction or the text analysis (spaCy refuses texts over its own maximum).
INSERT INTO {{rejects}}
SELECT s._sha256, s._row_number, 'text_length_limit' AS expectation,
       'text of ' || length(src.text) || ' characters is over the limit of ' || $limit
       || ' (EDI_RECRUIT_MAX_TEXT_CHARS)' AS reason
FROM staging.{{table}} s
JOIN {{source}} src ON src._sha256 = s._sha256 AND src._row_number = s._row_number
WHERE length(src.text) > $limit;
