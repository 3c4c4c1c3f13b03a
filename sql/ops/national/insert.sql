INSERT INTO {{table}} BY NAME SELECT * FROM {{frame}};
