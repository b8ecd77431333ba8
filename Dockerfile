# syntax=docker/dockerfile:1
# hub-bridge container image: wheels built in a throw-away stage, installed into a slim runtime
# that runs as an unprivileged user; the engine's healthcheck follows liveness (/healthz).
#
# The base image is pinned by digest, given as a build argument (see docs/deploy.md, "Building the
# image", for how to read the current digest with skopeo, podman or docker):
#
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest> -t hub-bridge .
#   podman build --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest> -t hub-bridge .
#   docker run --rm hub-bridge demo --messages 5          # the embedded end-to-end demo
#   docker run ... -v /etc/hub-bridge:/etc/hub-bridge:ro hub-bridge   # the service: needs bridge.toml
#
# Layers: the third-party wheels are built from pyproject's dependency list and the checked-in lock
# (requirements.lock) before any source is copied, so editing the bridge rebuilds only its own wheel.

# No usable default on purpose: an unpinned base would drift under the same tag.
ARG PYTHON_IMAGE=set-PYTHON_IMAGE-to-a-digest-pinned-python-image-see-docs-deploy-md

FROM ${PYTHON_IMAGE} AS builder
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# 1. dependencies: only pyproject's [project].dependencies, versions from the lock
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
 && pip wheel --wheel-dir /deps -r requirements.txt -c requirements.lock
# 2. the bridge itself, with its data folders (mappings, code lists, XSDs) as package data
COPY setup.py MANIFEST.in README.md ./
COPY bridge ./bridge
COPY mappings ./mappings
COPY nomenclatures ./nomenclatures
COPY xsd ./xsd
RUN pip wheel --no-deps --wheel-dir /app .

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="hub-bridge" \
      org.opencontainers.image.description="Legacy 15-18 / NexSIS EMSI / Hub Santé bridge" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HUB_BRIDGE_HOME=/var/lib/hub-bridge \
    HUB_BRIDGE__LOGGING__FORMAT=json \
    HUB_BRIDGE__HTTP__PORT=9180
RUN groupadd --system --gid 10001 bridge \
 && useradd --system --uid 10001 --gid bridge --home-dir /var/lib/hub-bridge --shell /usr/sbin/nologin bridge \
 && mkdir -p /var/lib/hub-bridge /etc/hub-bridge \
 && chown bridge:bridge /var/lib/hub-bridge
# dependency layer: cached as long as the dependency wheels are the same
COPY --from=builder /deps /deps
RUN pip install --no-index --no-deps /deps/*.whl && rm -rf /deps
COPY --from=builder /app /app
RUN pip install --no-index --no-deps /app/*.whl && rm -rf /app
COPY config.example.toml /etc/hub-bridge/config.example.toml
COPY config.health-lrm.example.toml /etc/hub-bridge/config.health-lrm.example.toml
USER bridge:bridge
WORKDIR /var/lib/hub-bridge
# installed schema bundles, imported code lists and the store live here (bridge schemas install ...)
VOLUME ["/var/lib/hub-bridge"]
EXPOSE 9180 15018
# Liveness, not readiness: /healthz answers while the reactor turns. A broker outage makes /readyz
# answer 503, but the bridge keeps taking frames into its outbox: restarting it would not help.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HUB_BRIDGE__HTTP__PORT', '9180'), timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["bridge"]
CMD ["run", "--config", "/etc/hub-bridge/bridge.toml"]
