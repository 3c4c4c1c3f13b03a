-- A national table with the columns of a registered frame (no rows).
CREATE TABLE IF NOT EXISTS {{table}} AS SELECT * FROM {{frame}} LIMIT 0;
