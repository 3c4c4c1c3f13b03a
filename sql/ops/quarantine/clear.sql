DELETE FROM quarantine.{{table}};
