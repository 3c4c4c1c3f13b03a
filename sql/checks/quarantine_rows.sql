-- Lineage of the rows a row-level expectation failed for: {{rows}} holds (_row_id, expectation, reason);
-- a row id is file_no * 2^32 + _row_number (validation_row_files.sql).
CREATE OR REPLACE TEMP TABLE validation_quarantine AS
SELECT f._sha256, r._row_id % 4294967296 AS _row_number, r.expectation, r.reason
FROM {{rows}} r JOIN validation_row_files f ON f.file_no = r._row_id // 4294967296;
