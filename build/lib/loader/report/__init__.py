"""Report: the HTML report and the Parquet export of the published marts."""
