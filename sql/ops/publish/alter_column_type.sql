-- Type migration: a later run's result column has a type earlier runs' rows do not fit in (e.g. a count
-- published as text since the linked disclosure change: '*' in n_clusters).  Existing values are cast,
-- nothing is dropped; runs inside the publishing transaction, so a failed publish leaves the old type.
ALTER TABLE {{table}} ALTER COLUMN {{column}} SET DATA TYPE {{type}};
