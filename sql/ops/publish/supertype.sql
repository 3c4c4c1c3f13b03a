-- The type DuckDB gives a column holding values of both types (as in a UNION): the stored column's
-- type when an earlier run wrote {{existing}} and this run writes {{incoming}}.
SELECT typeof(x) AS supertype FROM (SELECT NULL::{{existing}} AS x UNION ALL SELECT NULL::{{incoming}} AS x) LIMIT 1;
