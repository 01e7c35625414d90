# For comparison only (npm run bench:images): the API the naive way, one stage.
# Everything that built it ships with it: dev dependencies, TypeScript, sources,
# tests, the npm cache, a root user.
FROM node:24-trixie-slim
WORKDIR /app
COPY . .
RUN npm ci --ignore-scripts && npm run build --workspace services/api
ENV NODE_ENV=production PORT=3000 DATA_DIR=/app/data
EXPOSE 3000
CMD ["node", "services/api/dist/main.js"]
