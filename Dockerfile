# syntax=docker/dockerfile:1
# Atelier Products service image.
#   docker build -t atelier-products .
#   docker run -e DATABASE_URL=postgres://… -p 3000:3000 atelier-products
# The same image runs the service (default CMD) and the catalog loader
# (node dist/db/generate.js …, node dist/db/etl.js …): see docker-compose.yml.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: every dependency, TypeScript compiled to dist/ ---------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts and no optional packages: compiling needs neither the embedded
# PostgreSQL binaries nor anything they would set up.
RUN npm ci --no-audit --no-fund --ignore-scripts --omit=optional
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY db ./db
RUN npm run build

# --- deps: production dependencies only ----------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional leaves out the embedded PostgreSQL (60 MB): a container always gets
# DATABASE_URL. Without it no dependency has an install script to run.
RUN npm ci --no-audit --no-fund --omit=dev --omit=optional --ignore-scripts \
 && npm cache clean --force

# --- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json marks the project root; migrations and the sample are read at run time.
COPY package.json ./
COPY db/migrations ./db/migrations
COPY db/sample.sql ./db/sample.sql
# The loader's CSV volume is mounted at /data, the change feed's spool at /changes: a new
# named volume takes the owner of the folder it is mounted on.
RUN mkdir -p /data /changes && chown node:node /data /changes
# The node image's unprivileged user (uid 1000); nothing in /app is writable by it.
USER node
# PORT (HTTP) and METRICS_PORT (Prometheus) defaults of src/config.ts.
EXPOSE 3000 9464
# Liveness of the process (GET /healthz on PORT); readiness (/readyz) is nginx's business.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: the primary drains its workers (SHUTDOWN_TIMEOUT_MS, 8 s) before exiting.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server.js"]
