INSERT INTO landing.manifest
    (sha256, file_name, source_system, table_name, file_format, encoding, size_bytes,
     row_count, header_row, landed_path, landed_at)
VALUES ($sha256, $file_name, $source_system, $table_name, $file_format, $encoding, $size_bytes,
        $row_count, $header_row, $landed_path, $landed_at);
