"""One module per CLI command; see loader.cli."""
