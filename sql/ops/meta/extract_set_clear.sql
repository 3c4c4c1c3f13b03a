DELETE FROM meta.extract_set;
