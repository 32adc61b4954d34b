# The privacy proxy. The build steps live in scripts/build-prod.sh, which CI runs too (test/build.test.ts),
# because no Docker engine runs in CI.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN bash scripts/build-prod.sh

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    GPP_PORT=8443 \
    GPP_POLICIES_DIR=/app/policies \
    GPP_BUDGET_LEDGER_FILE=/var/lib/graph-privacy-proxy/budget-ledger.jsonl \
    GPP_SCORE_HISTORY_FILE=/var/lib/graph-privacy-proxy/score-history.jsonl
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Example policies; production mounts its own over /app/policies (a ConfigMap, see deploy/).
COPY policies ./policies
RUN mkdir -p /var/lib/graph-privacy-proxy && chown node:node /var/lib/graph-privacy-proxy
VOLUME ["/var/lib/graph-privacy-proxy"]
USER node
EXPOSE 8443
# A heap cap that fits the Kubernetes example's 512 Mi limit, and a young generation of at most 2 x 16 MB (V8's
# default under this cap grows it to 2 x 64 MB): the org score of a 300,000-user tenant then peaks near 360 MB RSS
# instead of 460 MB, at no more CPU, and its scavenges no longer hold the event loop for 70 ms (deploy/OPERATIONS.md,
# Sizing; bench/score-scale.ts, README "Benchmarks").
ENV NODE_OPTIONS="--max-old-space-size=320 --max-semi-space-size=16"
# No secrets are baked in: keys, TLS and Graph credentials come from the environment or mounted files.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "require('https').get({host:'127.0.0.1',port:process.env.GPP_PORT,path:'/healthz',rejectUnauthorized:false},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# V8 grows the heap after a full collection by at most a factor it scales with the heap cap (v8/src/heap/
# heap-controller.cc MaxGrowingFactor: 1.3 near its smallest default heap up to 2.0, and 4 at its default maximum):
# about 1.3 under this 320 MB cap, so the collector ran far more often and a cache-off CSV download cost 41-51 ms of
# CPU (27-32 under Node's defaults); with a factor of 2, 30-44 ms (README "Benchmarks", session 12). The flag sets
# the factor everywhere, also where V8 would grow the heap more slowly (memory pressure, its memory reducer), and in
# every thread (the validation workers too); the cap still bounds the heap (V8 never sets a limit past halfway to
# it). Streaming a 300,000-user report peaks at 392 MB RSS with it, 336 MB without (deploy/OPERATIONS.md, Sizing).
# Node refuses this flag in NODE_OPTIONS, so it is given here; bench/image-flags.ts reads both.
ENTRYPOINT ["node", "--heap-growing-percent=100", "dist/cli.js"]
CMD ["serve"]
