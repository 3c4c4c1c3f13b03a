SELECT value FROM meta.settings WHERE name = $name;
