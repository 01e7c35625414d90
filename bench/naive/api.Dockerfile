# For comparison only (npm run bench): the API the naive way, one stage.
# Everything that built it ships with it: dev dependencies, TypeScript, sources,
# tests, the npm cache, a root user.
FROM node:24-trixie-slim
WORKDIR /app
COPY . .
# (The secret only lets npm through a TLS-intercepting proxy, as in the real Dockerfile.)
RUN --mount=type=secret,id=ca_bundle,required=false \
    if [ -s /run/secrets/ca_bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle; fi; \
    npm ci --ignore-scripts && npm run build --workspace packages/contract --workspace packages/telemetry --workspace services/api
ENV NODE_ENV=production PORT=3000 DATA_DIR=/app/data
EXPOSE 3000
CMD ["node", "services/api/dist/main.js"]
