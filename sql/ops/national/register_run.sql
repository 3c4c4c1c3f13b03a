INSERT INTO national_results.runs (run_id, as_of, manifest, dask_address, status, trusts, started_at)
VALUES ($run_id, $as_of, $manifest, $dask_address, 'running', $trusts, now()::TIMESTAMP);
