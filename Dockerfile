# syntax=docker/dockerfile:1
# driftwatch as a container: `docker build -t driftwatch .`, then
#   docker run -v $PWD/driftwatch.yaml:/etc/driftwatch/driftwatch.yaml:ro -p 9464:9464 driftwatch
# The default command is `driftwatch run --config /etc/driftwatch/driftwatch.yaml`; any other
# subcommand works too (`docker run driftwatch simulate --help`). docker-compose.yml and the Helm
# chart in helm/driftwatch use this image. Checked by test/unit/dockerfile.test.ts.

# --- build: dev dependencies, TypeScript -> dist/ -------------------------------------------
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies and dist/ only, as a non-root user ----------------------
FROM node:20-slim AS runtime
# A container is reached from outside: listen on every interface (the config file's http.host
# defaults to 127.0.0.1). DRIFTWATCH_HTTP_PORT may still move the port.
ENV NODE_ENV=production DRIFTWATCH_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY LICENSE ./
# The uid/gid of the image's `node` user; numeric so Kubernetes' runAsNonRoot can verify it.
# /var/lib/driftwatch is for reference snapshots (docker-compose.yml builds one there).
RUN mkdir -p /etc/driftwatch /var/lib/driftwatch/reference \
 && chown -R 1000:1000 /var/lib/driftwatch \
 && ln -s /app/bin/driftwatch.js /usr/local/bin/driftwatch
USER 1000:1000
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.DRIFTWATCH_HTTP_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/driftwatch.js"]
CMD ["run", "--config", "/etc/driftwatch/driftwatch.yaml"]
