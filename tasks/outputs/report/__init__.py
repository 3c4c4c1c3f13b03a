"""The run report: one self-contained HTML file of a run's published tables.

``page`` assembles and writes it (:func:`render_report`); ``sections`` turns
published tables into one HTML fragment per section; ``charts`` draws the
inline SVG; ``format`` formats values and tables; ``css`` holds the stylesheet.
It reads through :mod:`tasks.outputs.published` only.
"""
