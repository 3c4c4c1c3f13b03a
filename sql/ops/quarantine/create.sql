-- Quarantined rows of a table: raw values kept as JSON so a corrected extract can be re-ingested.
CREATE TABLE IF NOT EXISTS quarantine.{{table}} (
    _sha256        VARCHAR NOT NULL,
    _row_number    BIGINT NOT NULL,
    expectation    VARCHAR NOT NULL,
    severity       VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    raw_values     JSON,
    quarantined_at TIMESTAMP NOT NULL
);
