-- Lineage of the rows a row-level expectation failed for: {{rows}} holds (_row_id, expectation, reason).
CREATE OR REPLACE TEMP TABLE validation_quarantine AS
SELECT v._sha256, v._row_number, r.expectation, r.reason
FROM {{rows}} r JOIN {{frame}} v ON v._row_id = r._row_id;
