"""DuckDB access: SQL files from sql/ (:mod:`.sql`), connections (:mod:`.connection`),
the single-writer lock (:mod:`.locks`), the per-process warehouse session
(:mod:`.session`) and small key/value settings (:mod:`.meta`).  No stage opens
DuckDB or builds SQL any other way."""
