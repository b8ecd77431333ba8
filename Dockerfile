# syntax=docker/dockerfile:1
# hub-bridge container image: a wheel built in a throw-away stage, installed into a slim
# runtime that runs as an unprivileged user and reports readiness (/readyz) to the engine.
#
#   docker build -t hub-bridge .
#   docker run --rm -p 127.0.0.1:9180:9180 -e HUB_BRIDGE__HTTP__BIND=0.0.0.0 hub-bridge   # embedded demo
#
# See docs/deploy.md for production use (certificates, config file, volumes).

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md requirements.lock ./
COPY bridge ./bridge
# the dependency versions CI tested (requirements.lock, pip-compile), nothing resolved afresh
RUN pip wheel --wheel-dir /wheels --constraint requirements.lock .

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="hub-bridge" \
      org.opencontainers.image.description="Legacy 15-18 / NexSIS EMSI / Hub Santé bridge" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HUB_BRIDGE_HOME=/var/lib/hub-bridge \
    HUB_BRIDGE_MAPPINGS=/opt/hub-bridge/mappings \
    HUB_BRIDGE_NOMENCLATURES=/opt/hub-bridge/nomenclatures \
    HUB_BRIDGE_XSD=/opt/hub-bridge/xsd \
    HUB_BRIDGE__LOGGING__FORMAT=json \
    HUB_BRIDGE__HTTP__PORT=9180
RUN groupadd --system --gid 10001 bridge \
 && useradd --system --uid 10001 --gid bridge --home-dir /var/lib/hub-bridge --shell /usr/sbin/nologin bridge \
 && mkdir -p /var/lib/hub-bridge /etc/hub-bridge \
 && chown bridge:bridge /var/lib/hub-bridge
COPY --from=builder /wheels /wheels
RUN pip install --no-index --find-links=/wheels hub-bridge && rm -rf /wheels
# project data the bridge reads through bridge.refdata.resources.project_dir(): tables, code lists, legacy XSDs
COPY mappings /opt/hub-bridge/mappings
COPY nomenclatures /opt/hub-bridge/nomenclatures
COPY xsd /opt/hub-bridge/xsd
COPY config.example.toml /etc/hub-bridge/runtime/config.example.toml
USER bridge:bridge
WORKDIR /var/lib/hub-bridge
VOLUME ["/var/lib/hub-bridge"]
EXPOSE 9180 15018
# urlopen raises on 503, so the container turns "unhealthy" while /readyz says not ready
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('HUB_BRIDGE__HTTP__PORT', '9180'), timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["bridge"]
CMD ["run"]
