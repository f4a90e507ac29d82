# syntax=docker/dockerfile:1
# ingot: one image, one entrypoint, both components. The container's arguments are the `ingot` command line:
# `controller ...` (manifests/ingot.yaml's Deployment), `speaker ...` (its DaemonSet), `config validate ...`.
#
#   docker build -t ingot:0.1.0 .
#
# No container engine runs on the project's CI machines: test/unit/image/dockerfile.test.ts replays this file
# in a scratch directory (context filtered by .dockerignore, the build stage's RUNs, the runtime stage's COPYs)
# and runs the entrypoint. Keep the build stage's RUNs to npm commands and the runtime stage free of RUN, so
# that replay stays faithful; the test refuses anything else.

# ---- build: dependencies, the N-API addon, TypeScript -----------------------------------------------------
# node:20-bookworm is Debian 12 with buildpack-deps: python3, make and g++ are already there for node-gyp,
# and the Node headers are in /usr/local/include/node (native/build.mjs finds them beside the node binary).
FROM node:20-bookworm AS build
WORKDIR /app
# Dependencies and the addon first: this layer is reused until the manifests or the addon's sources change.
COPY package.json package-lock.json ./
COPY native/ native/
# npm ci runs the package's `install` script (node native/build.mjs) → native/build/Release/ingot_native.node.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
# tsc -p tsconfig.build.json → dist/ (JavaScript and source maps).
RUN npm run build
# Production dependencies only from here on: no TypeScript, tsx, test or benchmark tools in the image.
RUN npm prune --omit=dev --no-audit --no-fund

# ---- runtime: Node 20 slim, the compiled program, production dependencies ---------------------------------
FROM node:20-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="ingot" \
      org.opencontainers.image.description="Bare-metal Service type=LoadBalancer: MetalLB-compatible config, BGP and Layer 2" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
# src/net/native.ts loads ../../native/build/Release/ingot_native.node relative to dist/net/.
COPY --from=build /app/native/build/Release/ingot_native.node native/build/Release/
# bin/ingot for `kubectl exec ... -- ingot ...`: it finds dist/ built and execs node on it.
COPY bin/ bin/
ENV PATH=/app/bin:$PATH
# Files stay owned by root and read-only to the process. The controller runs as this user. The speaker's
# DaemonSet sets runAsUser 0 with every capability dropped except NET_RAW and NET_BIND_SERVICE (BGP on 179,
# AF_PACKET for ARP/NDP): Kubernetes gives a non-root user no ambient capabilities, so added ones would not
# be effective for 65534.
USER 65534:65534
# 7472: /metrics, /healthz, /readyz, /status (both components). 179: BGP (speaker). 7946: memberlist (speaker,
# Layer 2). Documentation only: the speaker runs in the host network.
EXPOSE 7472/tcp 179/tcp 7946/tcp 7946/udp
# Node itself is the process (PID 1): SIGTERM reaches ingot's handler directly (Cease to every peer, Lease
# release). The image runs only the two long-running components, so the memory-lean V8 flags bin/ingot gives
# them are set here for every subcommand (V8 reads them at startup only): 1 MiB semi-spaces and
# --optimize-for-size, and no --enable-source-maps (the maps' mappings would stay in the heap; stack traces
# name dist/*.js lines). bench/README.md, "Memory".
ENTRYPOINT ["node", "--max-semi-space-size=1", "--optimize-for-size", "/app/dist/cli/main.js"]
