-- The personal-data columns (forename, surname, email) of every raw row of a table, as the
-- redaction of unstaged free text reads them (before retention nulls them).
SELECT {{columns}} FROM raw.{{table}};
