SELECT * FROM results.runs ORDER BY finished_at DESC NULLS LAST, started_at DESC NULLS LAST;
