# The builder pattern, for comparison only (npm run bench): the way images were
# made before multi-stage builds. This image compiles the API and prepares its
# runtime files in /out; bench/builder/build.sh copies /out out of a container
# and builds bench/builder/api.runtime.Dockerfile from it.
FROM node:24-trixie-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/api/package.json services/api/
COPY services/sidecar/package.json services/sidecar/
COPY packages/contract/package.json packages/contract/
COPY packages/telemetry/package.json packages/telemetry/
RUN --mount=type=secret,id=ca_bundle,required=false \
    if [ -s /run/secrets/ca_bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle; fi; \
    npm ci --ignore-scripts
COPY tsconfig.json ./
COPY packages/contract/ packages/contract/
COPY packages/telemetry/ packages/telemetry/
COPY services/api/ services/api/
RUN npm run build --workspace packages/contract --workspace packages/telemetry --workspace services/api
RUN --mount=type=secret,id=ca_bundle,required=false \
    if [ -s /run/secrets/ca_bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle; fi; \
    mkdir -p /out/services/api \
    && cp package.json package-lock.json /out/ \
    && cp -r services/api/package.json services/api/dist /out/services/api/ \
    && mkdir -p /out/services/sidecar && cp services/sidecar/package.json /out/services/sidecar/ \
    && mkdir -p /out/packages/contract && cp -r packages/contract/package.json packages/contract/dist /out/packages/contract/ \
    && mkdir -p /out/packages/telemetry && cp -r packages/telemetry/package.json packages/telemetry/dist /out/packages/telemetry/ \
    && cd /out && npm ci --omit=dev --ignore-scripts --workspace services/api
