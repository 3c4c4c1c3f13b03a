"""Everything a run shows to people, read from ``published.*`` only.

``published`` is the one reader of the published tables (and of the run
registry row an output needs); ``report`` writes the HTML report, ``export``
the CSV/Parquet/XLSX files, ``artifacts`` the Prefect UI artifacts.
Nothing here reads ``results.*`` figures or writes to the warehouse.
"""
