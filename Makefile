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
	$(GO) build -o $(RUN)/starter ./starter
	$(GO) build -o $(RUN)/sandbox ./sandbox/cmd/sandbox

## test: every test, race detector on; end-to-end tests run a real dev server on free ports
test: bin/temporal
	DCRFLOW_TEMPORAL_BIN=$(CURDIR)/bin/temporal $(GO) test -race -count=1 -timeout 20m $(PKGS)

## lint: gofmt check + go vet
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

## run: Temporal dev server + UI, sandbox and worker in the background, then onboard examples/portals.yaml
run: bin/temporal build
	@scripts/dev.sh up
	$(RUN)/starter -f examples/portals.yaml -wait
	@echo "services stay up; \`make stop\` stops them"

## stop: stop what `make run` started
stop:
	@scripts/dev.sh down

## sandbox: only the Okta + Konnect emulators, in the foreground
sandbox:
	$(GO) run ./sandbox/cmd/sandbox

clean: stop
	rm -rf $(RUN) bin
