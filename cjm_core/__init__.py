"""Customer Journey Map analytics core: ingest, workspaces, journeys, sample data.

Knows nothing of Streamlit: polars in, polars (and charts) out.
"""

__version__ = "0.1.0"
