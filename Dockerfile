# syntax=docker/dockerfile:1
#
# dcrflow's binaries as three small images from one build, one target each:
#
#   docker build -t dcrflow-worker .                       # worker: the default (last) target
#   docker build --target dcrflow -t dcrflow .             # the dcrflow command (built from ./starter)
#   docker build --target sandbox -t dcrflow-sandbox .     # the Okta + Konnect emulators (demo, tests)
#
# docker-compose.yml builds them itself (build.target). The binaries are static (CGO off,
# -trimpath, stripped) on distroless/static: CA certificates, tzdata and an /etc/passwd
# whose non-root user 65532 runs them; no shell, no package manager. Nothing secret is
# built in: tokens and keys reach the worker at run time (DCRFLOW_*_FILE naming mounted
# secrets, see README "Three ways to run"), and .dockerignore keeps deploy/secrets/ and
# env files out of the build context.

ARG GO_VERSION=1.26.8
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# healthcheck: a tiny HTTP probe, since the runtime image has no curl or wget.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w" -o /out/ ./worker ./sandbox/cmd/sandbox ./deploy/healthcheck && \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w" -o /out/dcrflow ./starter

FROM ${RUNTIME_IMAGE} AS runtime
USER 65532:65532

FROM runtime AS dcrflow
COPY --from=build /out/dcrflow /usr/local/bin/dcrflow
ENTRYPOINT ["/usr/local/bin/dcrflow"]

FROM runtime AS sandbox
COPY --from=build /out/sandbox /out/healthcheck /usr/local/bin/
# Loopback only: the worker accepts plain http only to a loopback host, so in compose the
# demo worker shares this container's network namespace (network_mode: service:sandbox).
EXPOSE 8180 8181
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=12 \
    CMD ["/usr/local/bin/healthcheck", "http://127.0.0.1:8180/_sandbox/health", "http://127.0.0.1:8181/_sandbox/health"]
ENTRYPOINT ["/usr/local/bin/sandbox"]
CMD ["-okta-addr", "127.0.0.1:8180", "-konnect-addr", "127.0.0.1:8181"]

FROM runtime AS worker
# healthcheck: compose probes the worker's /readyz with it (metrics.listen must be set).
COPY --from=build /out/worker /out/healthcheck /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/worker"]
CMD ["-log-level", "info"]
