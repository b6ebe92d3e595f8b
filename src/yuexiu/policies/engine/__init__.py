"""The policy rule engine: rule files (``rules``), the reference evaluation (``reference``), the
vectorised DuckDB evaluation (``sql``) and the YAML rule tests (``testing``). No Django import, ever:
the engine runs the same in a worker, a benchmark or another SQL host."""
