-- Reference data loaded from reference/ (copied from shared/reference with sources)
CREATE OR REPLACE TABLE meta.ethnic_category AS
SELECT code, description, census_group, wres_group
FROM read_csv($ethnic_csv, all_varchar = true, header = true);
CREATE OR REPLACE TABLE meta.wres_indicator2_national AS
SELECT period, scope, CAST(relative_likelihood AS DOUBLE) AS relative_likelihood, note, source
FROM read_csv($wres_csv, all_varchar = true, header = true);
-- main code of an NHS ethnic category: A..S, Z, 99, or the first letter of an extended local code
CREATE OR REPLACE MACRO edi_main_code(code) AS CASE
    WHEN code = '99' THEN '99'
    WHEN regexp_full_match(code, '[A-HJ-NPRSZ]') THEN code
    WHEN regexp_full_match(code, '[A-HJ-NPRS][A-Z0-9]') THEN left(code, 1)
    ELSE NULL END;
-- Lineage of a mart row: the source file's content hash and the row's number in it.
-- Key-independent (unlike the pseudonymous IDs), so reads ordered by it see the same
-- order in every warehouse built from the same extracts (tasks/marts.py load_mart).
CREATE OR REPLACE MACRO edi_lineage(sha, row_number) AS sha || ':' || lpad(CAST(row_number AS VARCHAR), 12, '0');
