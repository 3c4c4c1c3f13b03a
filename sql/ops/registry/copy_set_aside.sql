-- the rows of a results.runs set aside by widen_status.sql, into the current table
INSERT INTO results.runs BY NAME SELECT * FROM results.runs_before_abandoned;
DROP TABLE results.runs_before_abandoned;
