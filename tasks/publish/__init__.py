"""Publishing a run: the hand-off of result tables from the analyses (:mod:`.results_store`),
appending them with disclosure control (:mod:`.writer`), publish-and-complete in ONE transaction
(:mod:`.complete`, the only place a run becomes ``completed``), the run registry ``results.runs``
and backfill's skip rule (:mod:`.registry`), and the comparison of two runs (:mod:`.run_diff`)."""
