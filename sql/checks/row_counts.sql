-- Staged row counts per validated run: the baseline of the row-count drift warning.
CREATE TABLE IF NOT EXISTS meta.validation_row_counts (
    run_id       VARCHAR NOT NULL,
    table_name   VARCHAR NOT NULL,
    row_count    BIGINT NOT NULL,
    validated_at TIMESTAMP NOT NULL
);
