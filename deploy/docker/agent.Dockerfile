# syntax=docker/dockerfile:1
# The agent daemon of one compute device. Build from the repository root:
#   docker build -f deploy/docker/agent.Dockerfile -t fedml-agent .
# Needs FEDML_SERVER_URL and an API key (FEDML_API_KEY, or FEDML_API_KEY_FILE naming a file
# that holds it); binds on first start, then runs. Jobs run as the unprivileged user fedml
# with bash and python3; add what your jobs need in an image built FROM this one.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
# The agent has no native module: no compiler, and no install scripts need to run.
RUN npm ci --ignore-scripts \
    && npx tsc -b packages/agent \
    && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    FEDML_HOME=/var/lib/fedml
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system fedml \
    && useradd --system --gid fedml --home-dir /var/lib/fedml --shell /bin/bash fedml \
    && mkdir -p /var/lib/fedml \
    && chown fedml:fedml /var/lib/fedml
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages/core/package.json ./packages/core/
COPY --from=build /src/packages/core/dist ./packages/core/dist
COPY --from=build /src/packages/agent/package.json ./packages/agent/
COPY --from=build /src/packages/agent/bin ./packages/agent/bin
COPY --from=build /src/packages/agent/dist ./packages/agent/dist
COPY deploy/docker/agent-entrypoint.sh /usr/local/bin/fedml-agent-entrypoint
USER fedml
VOLUME ["/var/lib/fedml"]
ENTRYPOINT ["/usr/local/bin/fedml-agent-entrypoint"]
