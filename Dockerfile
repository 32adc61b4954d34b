# First version: the simulated tenant. Probes, config and the proxy itself come with the operations issue.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN bash scripts/build-prod.sh

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
# The proxy (serve, settings from the environment, see README); the simulator stays available as a command.
EXPOSE 8443
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
