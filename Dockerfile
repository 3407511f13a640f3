# syntax=docker/dockerfile:1
# The esxi-zfs worker (and CLI): compiled JavaScript and the workflows bundled at build time, on
# Node 22 LTS, as the unprivileged `node` user. `docker compose up` builds it (docker-compose.yml);
# alone: docker build -t esxi-zfs:0.1.0 . && docker run esxi-zfs:0.1.0 esxi-zfs --version
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: every native part the build and the worker use comes prebuilt (esbuild,
# swc, Temporal's core bridge); ssh2's optional bindings have a pure JavaScript fallback.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY scripts scripts
COPY activities activities
COPY core core
COPY inventory inventory
COPY workers workers
COPY workflows workflows
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    ESXI_ZFS_METRICS_ADDRESS=0.0.0.0:9464
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist dist
COPY bin bin
RUN ln -s /app/bin/esxi-zfs.js /usr/local/bin/esxi-zfs
USER node
# Prometheus metrics (ESXI_ZFS_METRICS_ADDRESS).
EXPOSE 9464
# Healthy while the worker answers on its metrics port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const port = (process.env.ESXI_ZFS_METRICS_ADDRESS || ':9464').split(':').pop(); fetch(`http://127.0.0.1:${port}/metrics`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The worker's young generation capped (bin/esxi-zfs.js says why).
ENV NODE_OPTIONS=--max-semi-space-size=2
CMD ["esxi-zfs", "worker"]
