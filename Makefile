# dcrflow — see README.md. Everything here sets itself up from a machine with Go and make.
SHELL := /bin/bash
GO    ?= go
RUN   := .run
PKGS  := ./...

SANDBOX_OKTA_ADDR    ?= 127.0.0.1:8180
SANDBOX_KONNECT_ADDR ?= 127.0.0.1:8181

.PHONY: all build test lint run stop sandbox clean

all: lint test

build:
	$(GO) build $(PKGS)

## test: every test, with the race detector (contract checks need ../shared/specs; they skip with a message without it)
test:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## lint: gofmt check + go vet
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

## sandbox: the Okta + Konnect emulators in the foreground
sandbox:
	$(GO) run ./sandbox/cmd/sandbox -okta-addr $(SANDBOX_OKTA_ADDR) -konnect-addr $(SANDBOX_KONNECT_ADDR)

## run: start the sandbox in the background (logs and pids in .run/); `make stop` stops it
run: stop
	@mkdir -p $(RUN)
	$(GO) build -o $(RUN)/sandbox ./sandbox/cmd/sandbox
	@rm -f $(RUN)/sandbox-urls.json
	@nohup $(RUN)/sandbox -okta-addr $(SANDBOX_OKTA_ADDR) -konnect-addr $(SANDBOX_KONNECT_ADDR) \
		-urls-file $(RUN)/sandbox-urls.json > $(RUN)/sandbox.log 2>&1 & echo $$! > $(RUN)/sandbox.pid
	@for i in $$(seq 1 100); do [ -s $(RUN)/sandbox-urls.json ] && break; \
		kill -0 $$(cat $(RUN)/sandbox.pid) 2>/dev/null || { cat $(RUN)/sandbox.log; exit 1; }; sleep 0.1; done
	@[ -s $(RUN)/sandbox-urls.json ] || { echo "sandbox did not start; see $(RUN)/sandbox.log"; exit 1; }
	@echo "sandbox up: $$(cat $(RUN)/sandbox-urls.json)"
	@echo "state:  curl -s http://$(SANDBOX_KONNECT_ADDR)/_sandbox/state"
	@echo "stop:   make stop"

stop:
	@if [ -f $(RUN)/sandbox.pid ]; then kill $$(cat $(RUN)/sandbox.pid) 2>/dev/null || true; \
		for i in $$(seq 1 50); do kill -0 $$(cat $(RUN)/sandbox.pid) 2>/dev/null || break; sleep 0.1; done; \
		rm -f $(RUN)/sandbox.pid; fi

clean: stop
	rm -rf $(RUN) bin
