"""Load: landed files into the warehouse's raw tables, each exactly once, all or nothing.

``run`` drives a load; ``candidates`` finds the files; ``load_log`` records them; ``transactions``
loads a file (or a batch) in one transaction; ``lanes`` inserts Hatch archives in parallel lanes;
``hatch_archives`` and ``documents`` read one file each with DuckDB's readers.
"""
