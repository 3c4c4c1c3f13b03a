-- Move the rows listed in {{rows}} (_sha256, _row_number, expectation, reason) from
-- staging.{{table}} to quarantine.{{table}}, keeping their raw values.  A row already
-- quarantined keeps its first reason.
INSERT INTO quarantine.{{table}}
SELECT q._sha256, q._row_number, q.expectation, 'row-level', q.reason,
       to_json(r) AS raw_values, current_timestamp
FROM (SELECT DISTINCT ON (_sha256, _row_number) * FROM {{rows}} ORDER BY _sha256, _row_number, expectation) q
JOIN raw.{{table}} r ON r._sha256 = q._sha256 AND r._row_number = q._row_number
WHERE NOT EXISTS (SELECT 1 FROM quarantine.{{table}} x WHERE x._sha256 = q._sha256 AND x._row_number = q._row_number);
DELETE FROM staging.{{table}} s
WHERE EXISTS (SELECT 1 FROM {{rows}} q WHERE q._sha256 = s._sha256 AND q._row_number = s._row_number);
