# The dashboard in a container: one Streamlit server, the workspace database on a volume.
#   docker build -t cjm-dashboard .
#   docker run -p 8501:8501 -v cjm-data:/data -e CJM_PASSWORD=... cjm-dashboard
# See docs/hosting.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CJM_DB=/data/workspaces.duckdb \
    NUMBA_CACHE_DIR=/home/cjm/.cache/numba

# fonts for the map's PNG/PDF export (DejaVu has the ⚑ ≠ − glyphs); a user without a login shell
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin cjm \
 && mkdir -p /data \
 && chown cjm:cjm /data

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
# the code stays owned by root: the app user can read it but not change it (so the funnel's
# compiled loops are cached under NUMBA_CACHE_DIR, in the app user's home)
COPY . .

USER cjm
VOLUME ["/data"]
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).status == 200 else 1)"]

CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
