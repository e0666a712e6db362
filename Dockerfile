# syntax=docker/dockerfile:1
# Multi-stage: build the web app with the dev toolchain, run with production deps only, as non-root.
# One image, two uses (docker-compose.yml): the server (default command) and the demo simulators.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY server ./server
COPY simulators ./simulators
COPY drizzle ./drizzle
COPY --from=build /app/web/dist ./web/dist
USER node
EXPOSE 3000
# The healthcheck is in docker-compose.yml, since the simulators run from this image too.
CMD ["node", "--import", "tsx", "server/src/main.ts"]
