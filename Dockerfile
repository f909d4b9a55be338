# The console image: web (gunicorn), worker and beat run from it with different commands.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HARBORCONSOLE_VAR_DIR=/var/lib/harborconsole
WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY harborconsole ./harborconsole
COPY provisioning ./provisioning
COPY monitoring ./monitoring
COPY kubeemulator ./kubeemulator
RUN pip install --no-cache-dir -c constraints.txt . && useradd --system --uid 10001 console \
    && mkdir -p /var/lib/harborconsole && chown console /var/lib/harborconsole
COPY manage.py ./
COPY templates ./templates
COPY static ./static
# Production settings store static files with a manifest (hashed names): build it with the same storage, using
# throw-away keys that exist only for this build step.
RUN HARBORCONSOLE_ENV=production SECRET_KEY=collectstatic-build-step-only ALLOWED_HOSTS=build.invalid \
    FIELD_ENCRYPTION_KEYS=ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMDAwMDA= \
    python manage.py collectstatic --noinput
USER 10001
EXPOSE 8000
CMD ["gunicorn", "harborconsole.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", "--threads", "8", "--access-logfile", "-"]
