-- Schema evolution: a later run's result has a column earlier runs lacked.
ALTER TABLE {{table}} ADD COLUMN {{column}} {{type}};
