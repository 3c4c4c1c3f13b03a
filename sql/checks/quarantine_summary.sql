-- What quarantine.{{table}} holds now, by expectation and reason.
SELECT $table_name AS table_name, expectation, reason, count(*) AS rows
FROM quarantine.{{table}}
GROUP BY expectation, reason
ORDER BY rows DESC, expectation, reason;
