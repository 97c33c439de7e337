"""What the miners front end prints on the terminal: the table of miners measured, one row each, read from
the run records through :mod:`bench.record.miners` as every other command reads them.
"""
