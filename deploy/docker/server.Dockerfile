# syntax=docker/dockerfile:1
# The control plane. Build from the repository root:
#   docker build -f deploy/docker/server.Dockerfile -t fedml-server .
# Settings come from the environment (fedml-server --help lists them); state lives in the
# /var/lib/fedml volume (SQLite, workspaces, admin-key) unless FEDML_DATABASE_URL names PostgreSQL.

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles where no prebuilt binary fits.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN npm ci --strict-allow-scripts \
    && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    FEDML_HOME=/var/lib/fedml \
    FEDML_SERVER_HOST=0.0.0.0 \
    FEDML_SERVER_PORT=8732
RUN groupadd --system fedml \
    && useradd --system --gid fedml --home-dir /var/lib/fedml --shell /usr/sbin/nologin fedml \
    && mkdir -p /var/lib/fedml \
    && chown fedml:fedml /var/lib/fedml
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages/core/package.json ./packages/core/
COPY --from=build /src/packages/core/dist ./packages/core/dist
COPY --from=build /src/packages/server/package.json ./packages/server/
COPY --from=build /src/packages/server/bin ./packages/server/bin
COPY --from=build /src/packages/server/dist ./packages/server/dist
USER fedml
VOLUME ["/var/lib/fedml"]
EXPOSE 8732
HEALTHCHECK --interval=30s --timeout=5s \
    CMD ["node", "-e", "fetch('http://127.0.0.1:8732/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "packages/server/bin/fedml-server.js"]
