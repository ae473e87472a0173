# dcrflow — see README.md. Everything here sets itself up from a machine with Go and make.
SHELL := /bin/bash
GO    ?= go
RUN   := .run
PKGS  := ./...

.PHONY: all build test lint run stop sandbox clean

all: lint test

## bin/temporal: the Temporal CLI (dev server + UI), pinned in tools/go.mod; ~6 min the first time, then cached
bin/temporal: tools/go.mod tools/go.sum
	@echo "building the Temporal CLI (first time takes a few minutes)..."
	cd tools && GOBIN=$(CURDIR)/bin $(GO) install github.com/temporalio/cli/cmd/temporal

build:
	$(GO) build $(PKGS)
	@mkdir -p $(RUN)
	$(GO) build -o $(RUN)/worker ./worker
	$(GO) build -o $(RUN)/dcrflow ./starter
	$(GO) build -o $(RUN)/sandbox ./sandbox/cmd/sandbox

## test: every test, race detector on; end-to-end tests run a real dev server on free ports
test: bin/temporal
	DCRFLOW_TEMPORAL_BIN=$(CURDIR)/bin/temporal $(GO) test -race -count=1 -timeout 20m $(PKGS)
	cd bench && $(GO) test -race -count=1 ./...   # the bench's own module (bench/go.mod)

## bench: the benchmark (README, "Performance"): budget efficiency, orchestration gain, cost, two workers;
## writes bench/report/REPORT.md and bench/report/fleet.png; about 7 min. BENCH_FLAGS="-portals 100" to change sizes
.PHONY: bench
bench: bin/temporal
	cd bench && DCRFLOW_TEMPORAL_BIN=$(CURDIR)/bin/temporal $(GO) run . $(BENCH_FLAGS)

## soak: issue 20's soak: 200 portals with heavy sharing under random faults on every endpoint, worker SIGKILLs,
## a second worker joining and leaving and a dev server restart, then an audit (exits 1 if it fails);
## writes bench/report/soak/REPORT.md; about 10 min. SOAK_FLAGS="-soak-portals 300 -fault-rate 0.1" to change it
.PHONY: soak
soak: bin/temporal
	cd bench && DCRFLOW_TEMPORAL_BIN=$(CURDIR)/bin/temporal $(GO) run . -soak $(SOAK_FLAGS)

## bin/workflowcheck: Temporal's determinism checker, pinned in tools/workflowcheck/go.mod
bin/workflowcheck: tools/workflowcheck/go.mod tools/workflowcheck/go.sum
	cd tools/workflowcheck && GOBIN=$(CURDIR)/bin $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck

## lint: gofmt check + go vet + workflowcheck (non-determinism in workflow code; the
## false positives it reports, each confirmed, are in workflowcheck.yaml)
lint: bin/workflowcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	bin/workflowcheck -config workflowcheck.yaml ./workflows/...
	cd bench && $(GO) vet ./...

## run: Temporal dev server + UI, sandbox and worker in the background, then onboard examples/portals.yaml
run: bin/temporal build
	@scripts/dev.sh up
	$(RUN)/dcrflow onboard -f examples/portals.yaml --wait
	@echo "services stay up; \`make stop\` stops them"

## stop: stop what `make run` started
stop:
	@scripts/dev.sh down

## sandbox: only the Okta + Konnect emulators, in the foreground
sandbox:
	$(GO) run ./sandbox/cmd/sandbox

clean: stop
	rm -rf $(RUN) bin

# --- Docker Compose (README, "Three ways to run"); needs a Docker engine with the compose plugin
COMPOSE        ?= docker compose
COMPOSE_INPUTS := deploy/worker.env deploy/secrets/okta_token.txt deploy/secrets/konnect_token.txt deploy/secrets/dcr_token_default.txt
compose_check   = $(COMPOSE) version >/dev/null 2>&1 || { \
	echo "make $@: '$(COMPOSE)' is not available here: it needs a Docker engine with the compose plugin (>= 2.24)."; \
	echo "  Without Docker, 'make run' runs the whole thing locally (dev server, sandbox, worker)."; exit 1; }

.PHONY: up down

## up: Temporal (PostgreSQL) + UI + worker in Docker, detached; WORKERS=N scales the workers; DEMO=1 uses the sandbox instead of Okta/Konnect
up:
	@$(compose_check)
ifdef DEMO
	$(COMPOSE) --profile demo up -d --build --scale worker=0 $(if $(WORKERS),--scale worker-demo=$(WORKERS))
	@echo "demo up: Temporal UI http://localhost:8080; the example portals: $(COMPOSE) logs -f onboard-demo"
else
	@missing=; for f in $(COMPOSE_INPUTS); do [ -f "$$f" ] && [ -s "$$f" ] || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
		echo "make up: missing:$$missing"; \
		echo "  create each from its .example (deploy/worker.env: the Okta org URL and Konnect region; each secret: one token, nothing else),"; \
		echo "  or try the sandbox: make up DEMO=1"; exit 1; fi; \
	placeholders=$$(grep -l REPLACE_WITH $(COMPOSE_INPUTS) || true); \
	if [ -n "$$placeholders" ]; then echo "make up: still the example's placeholder:" $$placeholders; exit 1; fi
	$(COMPOSE) up -d --build $(if $(WORKERS),--scale worker=$(WORKERS))
	@echo "up: Temporal UI http://localhost:8080, Temporal at 127.0.0.1:7233; worker logs: $(COMPOSE) logs -f worker"
endif

## down: stop and remove what `make up` started (any profile); the PostgreSQL volume stays (docker compose down -v drops it)
down:
	@$(compose_check)
	$(COMPOSE) --profile demo --profile tools down

## ui-check: `make run`, then the fleet and a portal in the Temporal UI in headless Chromium
## (installed from Debian when missing): summaries and Current Details must show; screenshots in .run/ui-*.png
.PHONY: ui-check
ui-check: run
	@scripts/ui-check.sh
