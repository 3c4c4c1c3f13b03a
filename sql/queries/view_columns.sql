SELECT column_name FROM (DESCRIBE {{view}});
