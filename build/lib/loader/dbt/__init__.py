"""dbt: the project's dbt build run in this process, and the plugin that points dbt at the
warehouse's working copy. ``loader.dbt`` never shadows the ``dbt`` package: imports are absolute.
"""
