"""Contract tests: every registered mechanism, and the import graph."""
