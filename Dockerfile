# cxbot's image: `docker build -t cxbot .`, then `docker run -p 8080:8080 -v cxbot-data:/data cxbot`
# (the web chat and webhook on port 8080, answers in the SQLite file /data/cxbot.db), or
# `docker compose up` for cxbot on PostgreSQL (docker-compose.yml; docs/operations.md).
# Settings are CXBOT_* environment variables (.env.example lists them all).
ARG PYTHON_IMAGE=python:3.11-slim-trixie

# --- build: cxbot and its dependencies in a virtual environment, nothing else ---------------------
FROM ${PYTHON_IMAGE} AS build
# strip: some wheels' compiled modules carry debug symbols (uvloop's alone is 13 MB, 1.6 MB without).
# Build-stage tools only: pinning their Debian versions would break the build at each point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
# no pip in the environment that ships: the base image's pip installs into it
RUN python -m venv --without-pip /opt/venv
WORKDIR /src

# The dependencies (with the `fast` extra: orjson, uvloop) in a layer of their own, rebuilt only
# when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['fast']))" > requirements.txt \
    && pip --python /opt/venv/bin/python install --requirement requirements.txt

COPY README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY frameworks ./frameworks
COPY storage ./storage
# Then cxbot itself, and out with what is never run: test suites (numpy's and matplotlib's are
# 20 MB) and debug symbols. The vendored libraries in *.libs are left as they are: auditwheel
# patched them, and stripping breaks them.
RUN pip --python /opt/venv/bin/python install "./[fast]" \
    && find /opt/venv -depth -type d -name tests -path '*/site-packages/*' -exec rm -rf {} + \
    && find /opt/venv -name '*.so' -path '*/site-packages/*' -not -path '*.libs/*' \
        -exec strip --strip-debug {} + \
    && /opt/venv/bin/python -c "import bot.server, matplotlib.backends.backend_agg, numpy, uvloop, orjson"

# --- run: the slim base image, the environment, and a user of its own ----------------------------
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CXBOT_HOST=0.0.0.0 \
    CXBOT_PORT=8080 \
    CXBOT_DATABASE_URL=sqlite:////data/cxbot.db
RUN groupadd --system --gid 10001 cxbot \
    && useradd --system --uid 10001 --gid cxbot --home-dir /home/cxbot --create-home \
        --shell /usr/sbin/nologin cxbot \
    && mkdir /data \
    && chown cxbot:cxbot /data
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
# matplotlib's font cache, made now (as the user that reads it) instead of at the first chart
RUN python -c "import matplotlib.font_manager"
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# The standard library only (bot/healthcheck.py): a fraction of the second `cxbot` takes to start.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]
# Migrations are applied as it starts; SIGTERM stops it gracefully.
CMD ["cxbot", "serve"]
