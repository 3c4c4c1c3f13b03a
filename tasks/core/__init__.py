"""What every stage shares: the vocabulary (names of terms, stages, groups and codes),
months, project paths, the run context and the run configuration.  Nothing here
touches the warehouse."""
