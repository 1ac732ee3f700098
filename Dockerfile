# SalesFlow image: one image for web (gunicorn), Celery worker and Celery beat. See docker-compose.yml.

# Front-end libraries come from npm (package-lock.json), never from a CDN.
FROM node:20-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=3
WORKDIR /app
RUN useradd --create-home --uid 10001 --user-group salesflow
COPY requirements.txt ./
RUN pip install -r requirements.txt
# Only the files settings.STATICFILES_DIRS serves from node_modules.
COPY --from=frontend /build/node_modules/htmx.org/dist ./node_modules/htmx.org/dist
COPY --from=frontend /build/node_modules/chart.js/dist ./node_modules/chart.js/dist
COPY --from=frontend /build/node_modules/sortablejs ./node_modules/sortablejs
COPY . .
# With DEBUG off static files are served hashed and compressed (whitenoise's manifest), built here once.
RUN DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0
USER salesflow
EXPOSE 8000
# gunicorn takes its worker count from WEB_CONCURRENCY.
CMD ["gunicorn", "salesflow.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
