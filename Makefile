# Cloud Credits — the two commands are `make run` and `make test`.
# Every tool a target needs is installed into .tools/ (ignored by git) on first use.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
PORT      ?= 8080
DATA      ?= .data
GOROOT    := $(shell $(GO) env GOROOT)
WASM_EXEC := $(GOROOT)/lib/wasm
ARTIFACTS := .artifacts

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: run
run: ## start the whole local system on 127.0.0.1:$(PORT) (SQLite in $(DATA)/)
	$(GO) run ./functions/cmd/local --addr 127.0.0.1:$(PORT) --data $(DATA)

.PHONY: test
test: tools vet test-go test-wasm ## run every test (installs what it needs into .tools/)
	@echo "make test: all suites passed"

.PHONY: tools
tools: ## install the test tools into .tools/ (DynamoDB Local)
	@scripts/ddb-local.sh install >/dev/null

.PHONY: vet
vet: ## gofmt, go vet and the js/wasm build of core
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) build ./core/...

.PHONY: test-go
test-go: ## unit, golden, fuzz-seed and conformance tests (SQLite and DynamoDB Local)
	$(GO) test -count=1 ./...

.PHONY: test-wasm
test-wasm: ## the core's tests compiled to js/wasm, run under Node
	PATH="$(WASM_EXEC):$$PATH" GOOS=js GOARCH=wasm $(GO) test -count=1 ./core/... ./wasm/

.PHONY: bench
bench: tools ## run the benchmarks and print a table
	@mkdir -p $(ARTIFACTS)
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./core/... ./functions/... | tee $(ARTIFACTS)/bench.txt
	@$(GO) run ./scripts/benchtable < $(ARTIFACTS)/bench.txt

.PHONY: build
build: ## build every artefact into build/ (the local server binary)
	@mkdir -p build
	CGO_ENABLED=0 $(GO) build -trimpath -o build/cloudcredits-local ./functions/cmd/local

.PHONY: clean
clean: ## remove build outputs and local data (keeps .tools/)
	rm -rf build dist $(ARTIFACTS) $(DATA)
