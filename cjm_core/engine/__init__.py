"""The engine seam: every events-based figure as per-customer partials merged by addition.

- :mod:`cjm_core.engine.partials`: the partial aggregates and their merge;
- :mod:`cjm_core.engine.passes`: the per-customer passes over a set of whole customers and the
  figures built from merged partials (one definition for every engine);
- :mod:`cjm_core.engine.local`: the local engine (polars and the compiled funnel kernel);
- :mod:`cjm_core.engine.spark`: the same passes on Spark (pyspark is imported there only).
"""
