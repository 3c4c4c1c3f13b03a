-- whether the run's applications export dates its status changes (recorded after ingest)
UPDATE results.runs SET status_dates = $status_dates WHERE run_id = $run_id;
