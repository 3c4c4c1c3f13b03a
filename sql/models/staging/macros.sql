-- Parsing and normalisation helpers shared by every staging statement.
-- A value that cannot be parsed becomes NULL; the row's _cast_errors lists it.
CREATE OR REPLACE MACRO edi_blank(s) AS nullif(trim(CAST(s AS VARCHAR)), '');
-- Dates: the mapping's format first, then ISO (Parquet/XLSX give ISO, with a time of day
-- when the cell had one), then dd/mm/yyyy.  The whole value must match a format:
-- '2021-09-0112345' or '2021-09' is not a date (the row is quarantined), never a prefix.
CREATE OR REPLACE MACRO edi_date(s, fmt) AS coalesce(
    try_strptime(edi_blank(s), fmt)::DATE,
    try_strptime(edi_blank(s), ['%Y-%m-%d', '%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f'])::DATE,
    try_strptime(edi_blank(s), '%d/%m/%Y')::DATE);
-- Months (a workforce snapshot): a whole date, or a whole 'YYYY-MM'.
CREATE OR REPLACE MACRO edi_month(s, fmt) AS coalesce(
    edi_date(s, fmt),
    try_strptime(edi_blank(s), '%Y-%m')::DATE);
CREATE OR REPLACE MACRO edi_bool(s, trues, falses) AS CASE
    WHEN s IS NULL OR trim(CAST(s AS VARCHAR)) = '' THEN NULL
    WHEN list_contains(list_transform(trues, lambda x: lower(x)), lower(trim(CAST(s AS VARCHAR)))) THEN TRUE
    WHEN lower(trim(CAST(s AS VARCHAR))) = 'true' THEN TRUE
    WHEN list_contains(list_transform(falses, lambda x: lower(x)), lower(trim(CAST(s AS VARCHAR)))) THEN FALSE
    WHEN lower(trim(CAST(s AS VARCHAR))) = 'false' THEN FALSE
    ELSE NULL END;
-- "Band 8a" / "8A" / "band 9" / "VSM" -> 8a / 9 / VSM; numbers like "7.0" -> 7
CREATE OR REPLACE MACRO edi_band(s) AS CASE
    WHEN edi_blank(s) IS NULL THEN NULL
    WHEN upper(trim(s)) IN ('VSM', 'VERY SENIOR MANAGER') THEN 'VSM'
    ELSE regexp_replace(lower(regexp_replace(trim(s), '^(?i:afc\s+)?(?i:band)\s*', '')), '\.0$', '') END;
CREATE OR REPLACE MACRO edi_sex(s) AS CASE upper(trim(CAST(s AS VARCHAR)))
    WHEN 'F' THEN 'Female' WHEN 'FEMALE' THEN 'Female'
    WHEN 'M' THEN 'Male' WHEN 'MALE' THEN 'Male'
    ELSE edi_blank(s) END;
-- Ethnic category: code as received, upper-cased; "A - White British" -> A; 99.0 -> 99
CREATE OR REPLACE MACRO edi_ethnic(s) AS CASE
    WHEN edi_blank(s) IS NULL THEN NULL
    ELSE regexp_replace(upper(trim(split_part(trim(CAST(s AS VARCHAR)), ' ', 1))), '\.0$', '') END;
CREATE OR REPLACE MACRO edi_number(s) AS TRY_CAST(edi_blank(s) AS DOUBLE);
-- Keyed pseudonym: type prefix + first 12 hex digits of sha256(key | type | value)
CREATE OR REPLACE MACRO edi_pseudo(prefix, s, k) AS CASE
    WHEN edi_blank(s) IS NULL THEN NULL
    ELSE prefix || '-' || left(sha256(k || '|' || prefix || '|' || regexp_replace(trim(CAST(s AS VARCHAR)), '\.0$', '')), 12) END;
-- list of problems for a row: name of each column whose non-blank raw value failed to parse
CREATE OR REPLACE MACRO edi_bad(name, raw_value, typed_value) AS
    CASE WHEN edi_blank(raw_value) IS NOT NULL AND typed_value IS NULL THEN name ELSE NULL END;
