INSERT INTO meta.retention VALUES ($sha256, $table_name, $columns, $rows_kept, $applied_at, $rule);
