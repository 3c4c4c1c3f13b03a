DELETE FROM meta.validation_row_counts WHERE run_id = $run_id AND table_name = $table_name;
INSERT INTO meta.validation_row_counts VALUES ($run_id, $table_name, $row_count, $validated_at);
