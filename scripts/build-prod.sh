#!/usr/bin/env bash
# Production build, shared by the Dockerfile and CI: compile TypeScript, then keep production dependencies only.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run build
npm prune --omit=dev --no-audit --no-fund
