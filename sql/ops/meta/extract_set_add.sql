INSERT INTO meta.extract_set VALUES ($table_name, $sha256, $file_name);
