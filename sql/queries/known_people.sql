-- distinct names and e-mail addresses known to the export, for redaction (never stored)
SELECT DISTINCT {{columns}} FROM {{view}};
