-- One row per published table per run: the SDC policy applied and what it did.
CREATE TABLE IF NOT EXISTS published.disclosure_log (
    run_id VARCHAR,
    table_name VARCHAR,
    policy_version VARCHAR,
    policy_sha256 VARCHAR,
    policy_summary VARCHAR,
    rows_published BIGINT,
    count_cells BIGINT,
    primary_suppressed BIGINT,
    secondary_suppressed BIGINT,
    rates_withheld BIGINT,
    derived_withheld BIGINT,
    estimates_flagged BIGINT,
    published_at TIMESTAMP
);
