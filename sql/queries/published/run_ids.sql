-- Runs that have published output, newest first.
SELECT run_id, max(published_at) AS published_at
FROM published.disclosure_log GROUP BY run_id ORDER BY published_at DESC;
