UPDATE {{table}} AS s
SET text = r.text, n_redactions = r.n_redactions
FROM {{redacted}} AS r
WHERE s._sha256 = r._sha256 AND s._row_number = r._row_number;
