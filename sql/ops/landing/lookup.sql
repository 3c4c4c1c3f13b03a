SELECT row_count FROM landing.manifest WHERE sha256 = $sha256;
