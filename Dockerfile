# CareLog: one image for every process (API, view workers, Kafka relay); the command picks.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY services ./services
COPY web ./web
RUN pip install . \
    && useradd --system --home-dir /var/lib/carelog --create-home carelog \
    && install -d -m 0700 -o carelog -g carelog /var/lib/carelog-keys

# The checkpoint signing key lives apart from the data it vouches for (its own volume).
ENV CARELOG_SIGNING_KEY=/var/lib/carelog-keys/signing.key

# State that is not in PostgreSQL (signed audit checkpoints) lives on a volume.
WORKDIR /var/lib/carelog
USER carelog
VOLUME ["/var/lib/carelog", "/var/lib/carelog-keys"]
EXPOSE 8000

CMD ["carelog", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
