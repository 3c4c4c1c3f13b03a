-- results.validation, written directly by the validation gate only when a run stops on a
-- critical failure (otherwise publish writes it with the run's other result tables).
CREATE TABLE IF NOT EXISTS results.validation AS SELECT * FROM {{frame}} LIMIT 0;
-- a warehouse from before the detail column (exact figures, never published) gets it
ALTER TABLE results.validation ADD COLUMN IF NOT EXISTS detail VARCHAR;
