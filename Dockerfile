# syntax=docker/dockerfile:1
# Gatehouse's container image: built in one stage, run from the built dist/ with production dependencies only, as a
# non-root user. What it does is proven in CI without Docker: test/integration/production-install.test.ts installs the
# packed package with production dependencies only and starts this CMD in production (docs/PRODUCTION.md).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY package.json ./
COPY config/default.json ./config/
COPY views ./views
# The operator's commands (`node scripts/rotate-keys.ts`, `node scripts/backup.ts`) run from source: Node 24 strips
# TypeScript types outside node_modules.
COPY src ./src
COPY scripts/rotate-keys.ts scripts/backup.ts ./scripts/
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
# /readyz answers 503 while a store does not answer and from the moment SIGTERM arrives.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
