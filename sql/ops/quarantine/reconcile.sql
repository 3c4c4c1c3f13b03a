-- raw (current extract set) = staging + quarantine, per table
SELECT
    $table_name AS table_name,
    (SELECT count(*) FROM raw.{{table}} r
       WHERE r._sha256 IN (SELECT sha256 FROM meta.extract_set WHERE table_name = $table_name)) AS raw_rows,
    (SELECT count(*) FROM staging.{{table}}) AS staged_rows,
    (SELECT count(*) FROM quarantine.{{table}}) AS quarantined_rows;
