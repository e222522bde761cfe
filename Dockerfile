# cti as a container: `docker compose up` builds it (see docker-compose.yml, docs/production.md).
# Two stages: the first installs cti into a virtual environment, the second copies only that
# environment onto a clean python image, so no pip cache, source tree or build tool is left.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Every dependency ships a manylinux wheel for CPython 3.11, so no compiler is installed.
COPY pyproject.toml README.md ./
COPY cti ./cti
RUN python -m venv /opt/cti \
    && /opt/cti/bin/pip install . \
    && /opt/cti/bin/pip uninstall --yes pip setuptools wheel

FROM python:3.11-slim
RUN groupadd --system --gid 10001 cti \
    && useradd --system --uid 10001 --gid cti --home-dir /home/cti --create-home cti
COPY --from=build /opt/cti /opt/cti
# The commented defaults, to copy from: mount your own file and run `cti --config FILE serve`.
# Without --config, cti's built-in defaults apply and docker-compose.yml sets what differs
# through CTI_* variables.
COPY config/cti.toml /etc/cti/cti.toml
ENV PATH=/opt/cti/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER cti
WORKDIR /home/cti
EXPOSE 8080
# 200 while the database answers (even with a PBX disconnected: /healthz says "degraded"),
# 503 when it does not. Uses python itself: the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('CTI_SERVER__PORT', '8080') + '/healthz', timeout=4)"]
# Runs pending database migrations, then the service.
CMD ["cti", "serve"]
