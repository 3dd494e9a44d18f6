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
run: site-wasm ## start the whole local system on 127.0.0.1:$(PORT) (SQLite in $(DATA)/)
	$(GO) run ./functions/cmd/local --addr 127.0.0.1:$(PORT) --data $(DATA)

.PHONY: token
token: ## print a token the local server accepts: make token ROLE=… CONTRACT=… SUB=… [ENTITY=…] [RESELLER=…]
	@$(GO) run ./functions/cmd/local token --data $(DATA) --role "$(ROLE)" --contract "$(CONTRACT)" --sub "$(SUB)" --entity "$(ENTITY)" --reseller "$(RESELLER)"

.PHONY: test
test: tools vet test-go test-wasm test-site lint-infra ## run every test (installs what it needs into .tools/)
	@echo "make test: all suites passed"

QUOTELINK := functions/quotelink
WRANGLER  := $(QUOTELINK)/tools/node_modules/.bin/wrangler

.PHONY: tools
tools: $(WRANGLER) ## install the test tools into ignored folders (DynamoDB Local, stripe-mock, wrangler)
	@scripts/ddb-local.sh install >/dev/null
	@test -x .tools/bin/stripe-mock || GOBIN=$(CURDIR)/.tools/bin $(GO) install github.com/stripe/stripe-mock@v0.203.0

$(WRANGLER): $(QUOTELINK)/tools/package-lock.json
	npm ci --prefix $(QUOTELINK)/tools --no-audit --no-fund
	@touch $@

.PHONY: vet
vet: ## gofmt, go vet and the js/wasm build of core
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) build ./core/...

.PHONY: lint-infra
lint-infra: ## lint the deploy template (cfn-lint with the SAM translator; says so when absent)
	@bash infra/lint.sh

.PHONY: test-go
test-go: ## unit, golden, fuzz-seed and conformance tests (SQLite and DynamoDB Local)
	$(GO) test -count=1 -timeout 30m ./...

.PHONY: test-wasm
test-wasm: ## the core's tests compiled to js/wasm, run under Node
	PATH="$(WASM_EXEC):$$PATH" GOOS=js GOARCH=wasm $(GO) test -count=1 ./core/... ./wasm/

SITE_TESTS := site/tests

.PHONY: site-wasm
site-wasm: ## the site's WebAssembly: site/wasm/ (wasm, .gz, .br, wasm_exec.js, loader.js, ratecard.json)
	@mkdir -p $(ARTIFACTS)
	$(GO) run ./scripts/site -site site -o $(ARTIFACTS)/site-wasm-sizes.txt

.PHONY: site-tools
site-tools: ## Chromium (Debian package) and playwright-core (npm ci into site/tests/node_modules)
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium) || { echo "install Chromium: apt-get install -y chromium"; exit 1; }
	@test -d $(SITE_TESTS)/node_modules/playwright-core || npm ci --prefix $(SITE_TESTS) --no-audit --no-fund

.PHONY: test-site
test-site: site-tools site-wasm ## the site in headless Chromium (screenshots in .artifacts/screenshots/)
	node --test $(SITE_TESTS)/

.PHONY: bench-site
bench-site: site-tools site-wasm ## WASM sizes, time to first estimate, the cost of estimates in the page, each beside its goal
	node $(SITE_TESTS)/bench.mjs

.PHONY: bench
bench: tools build-lambda build-worker bench-site bench-worker bench-capacity ## run the benchmarks and print them as a table, with the Lambda sizes
	@mkdir -p $(ARTIFACTS)
	$(GO) test -run '^$$' -bench . -skip SpendCapacity -benchmem -count=1 -timeout 30m ./core/... ./functions/... | tee $(ARTIFACTS)/bench.txt
	@$(GO) run ./scripts/benchtable < $(ARTIFACTS)/bench.txt | tee $(ARTIFACTS)/bench-table.txt
	@echo; echo "Lambda bootstrap sizes (linux/arm64):"; cat $(ARTIFACTS)/lambda-sizes.txt

LAMBDAS := purchases admin spending reads sweeper rollup

.PHONY: build
build: build-lambda site-wasm build-worker ## build every artefact: the Lambda zips and the local server into build/, the site's WASM into site/wasm/, the Worker bundle into dist/quotelink/
	CGO_ENABLED=0 $(GO) build -trimpath -o build/cloudcredits-local ./functions/cmd/local

.PHONY: build-worker
build-worker: tools ## the quote-link Worker: its bundle in dist/quotelink/ and its gzip size (budget 1.5 MiB; free plan 3 MiB)
	@mkdir -p dist $(ARTIFACTS)
	cd infra && WRANGLER_SEND_METRICS=false CI=true ../$(WRANGLER) deploy --dry-run --outdir ../dist/quotelink | grep 'Total Upload' | tee ../$(ARTIFACTS)/worker-size.txt

.PHONY: bench-capacity
bench-capacity: ## spends/s one shared pool sustains on DynamoDB: spends recorded on DynamoDB Local, replayed by the capacity model (its CAPACITY.md)
	@scripts/ddb-local.sh install >/dev/null
	@mkdir -p $(ARTIFACTS)
	$(GO) test -count=1 -run '^$$' -bench SpendCapacity -benchtime 1x -timeout 30m ./functions/credits/dynamo/capacity/ | tee $(ARTIFACTS)/bench-capacity.txt

.PHONY: bench-worker
bench-worker: tools ## the Worker under workerd: 200 sequential quote pages, CPU and wall time per request beside the goals
	$(GO) test -count=1 -run '^$$' -bench 'Workerd|^BenchmarkQuotePage$$' -benchtime 200x ./functions/quotelink/

.PHONY: build-lambda
build-lambda: ## the Lambda functions: build/lambda/<name>/bootstrap and build/lambda/<name>.zip (linux/arm64)
	@mkdir -p build/lambda $(ARTIFACTS)
	@: > $(ARTIFACTS)/lambda-sizes.txt
	@for f in $(LAMBDAS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" -o build/lambda/$$f/bootstrap ./functions/lambda/$$f; \
	  $(GO) run ./scripts/lambdazip build/lambda/$$f/bootstrap build/lambda/$$f.zip | tee -a $(ARTIFACTS)/lambda-sizes.txt; \
	done

STACK ?= cloudcredits

.PHONY: deploy
deploy: build-lambda lint-infra ## deploy to AWS with SAM (needs AWS credentials and the SAM CLI; see infra/README.md); never run in CI
	@command -v sam >/dev/null || { echo "deploy needs the AWS SAM CLI: see infra/README.md"; exit 1; }
	@command -v aws >/dev/null && aws sts get-caller-identity >/dev/null || { echo "deploy needs AWS credentials (aws sts get-caller-identity failed): see infra/README.md"; exit 1; }
	sam deploy --template-file infra/template.yaml --stack-name $(STACK) --capabilities CAPABILITY_IAM --resolve-s3 $(if $(wildcard samconfig.toml),,--guided)

.PHONY: clean
clean: ## remove build outputs and local data (keeps .tools/)
	rm -rf build dist $(ARTIFACTS) $(DATA)
