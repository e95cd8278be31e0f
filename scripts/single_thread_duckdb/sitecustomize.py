"""Put this folder on PYTHONPATH to make every DuckDB connection single-threaded.

DuckDB sums floats in parallel, so the last bits of SUM/AVG/STDDEV of DOUBLEs vary from run to run. The golden
script (and `bench/run_vs_seeknal.py --single-thread`) use this so Seeknal's outputs are byte-stable; it is also
inherited by the `uv run` subprocesses of Seeknal's Python nodes.
"""

try:
    import duckdb as _duckdb
except Exception:  # interpreter without duckdb
    _duckdb = None
if _duckdb is not None and not getattr(_duckdb.connect, "_single_threaded", False):
    _connect = _duckdb.connect

    def connect(*args, **kwargs):
        config = dict(kwargs.pop("config", None) or {})
        config.setdefault("threads", 1)
        return _connect(*args, config=config, **kwargs)

    connect._single_threaded = True
    _duckdb.connect = connect
    try:
        _duckdb.default_connection().execute("SET threads = 1")
    except Exception:
        pass
