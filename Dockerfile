# cxbot: `docker build -t cxbot .` then `docker run -p 8080:8080 -v cxbot-data:/data cxbot`
# (the web chat and webhook on port 8080, answers in a SQLite file on the volume; set
# CXBOT_DATABASE_URL=postgresql://... to use PostgreSQL, and CXBOT_TELEGRAM_TOKEN for Telegram).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CXBOT_HOST=0.0.0.0 \
    CXBOT_PORT=8080 \
    CXBOT_DATABASE_URL=sqlite:////data/cxbot.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY frameworks ./frameworks
COPY storage ./storage
RUN pip install ".[fast]" && useradd --system --create-home cxbot && mkdir /data && chown cxbot /data

USER cxbot
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"
CMD ["cxbot", "serve"]
