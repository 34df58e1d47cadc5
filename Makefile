# cfissuer: `make run` and `make test` do all set-up on a fresh machine.

SHELL       := /bin/bash
GO          ?= go
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
BIN         := bin/cfissuer
CACHE       := $(CURDIR)/.cache
FUZZTIME    ?= 5s
# Independent signers the tests cross-check against (npm, installed from
# the committed package.json and package-lock.json).
ORACLE_JS   := internal/oracle/js

export CGO_ENABLED ?= 0
export npm_config_cache := $(CACHE)/npm
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false

.PHONY: all build run test test-deps test-go fuzz fuzz-short bench lint fmt clean help

all: build

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

build: ## build bin/cfissuer with the version from git describe
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/cfissuer

# The binary that ships: static (CGO_ENABLED=0, exported above), for GOOS/GOARCH, without aws-lambda-go's
# RPC mode (provided.al2023 uses the Runtime API). The Dockerfile, the Lambda package and the tests of
# internal/deploytest all build it with this target, so the tests run the exact binary that ships.
GOOS        ?= linux
GOARCH      ?= $(shell $(GO) env GOARCH)
STATIC_OUT  ?= bin/cfissuer-$(GOOS)-$(GOARCH)
STATIC_FLAGS := -trimpath -tags lambda.norpc -ldflags '$(LDFLAGS)'
.PHONY: static lambda-zip

static: ## static binary for GOOS/GOARCH (STATIC_OUT), as the Dockerfile and Lambda build it
	CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) $(GO) build $(STATIC_FLAGS) -o $(STATIC_OUT) ./cmd/cfissuer

lambda-zip: ## bin/cfissuer-lambda-arm64.zip: the static binary as bootstrap, for provided.al2023 on arm64
	@rm -rf bin/lambda && mkdir -p bin/lambda
	@$(MAKE) --no-print-directory static GOOS=linux GOARCH=arm64 STATIC_OUT=bin/lambda/bootstrap
	touch -d 1980-01-01T00:00:00Z bin/lambda/bootstrap && rm -f bin/cfissuer-lambda-arm64.zip
	cd bin/lambda && zip -q -X ../cfissuer-lambda-arm64.zip bootstrap

# make run: `cfissuer serve --dev` keeps a dev signing key and a dev API key under the state folder (made once, reused;
# the API key's path is printed, never the key), serves the API for examples/behaviors.json, runs the local edge in
# front of the sample content and an edge a day ahead (to show a 403 after expiry), and prints commands to try.
# Logs go to stdout. Overrides: CFISSUER_STATE, CFISSUER_LISTEN, CFISSUER_EDGE, CFISSUER_EDGE_TOMORROW, CFISSUER_BEHAVIORS.
run: build ## the issuer on 127.0.0.1:8080 and the local edge on :8081 (dev key and API key in .cfissuer/)
	@exec ./bin/cfissuer serve --dev \
		--state "$${CFISSUER_STATE:-.cfissuer}" \
		--listen "$${CFISSUER_LISTEN:-127.0.0.1:8080}" \
		--edge "$${CFISSUER_EDGE:-127.0.0.1:8081}" \
		--edge-tomorrow "$${CFISSUER_EDGE_TOMORROW:-127.0.0.1:8082}" \
		--behaviors "$${CFISSUER_BEHAVIORS:-examples/behaviors.json}"

test-deps: $(ORACLE_JS)/node_modules/.installed ## install what the tests need (npm signer)

$(ORACLE_JS)/node_modules/.installed: $(ORACLE_JS)/package.json $(ORACLE_JS)/package-lock.json
	@command -v node >/dev/null || { echo "node and npm are required for the cross-check tests: apt-get install nodejs npm"; exit 1; }
	cd $(ORACLE_JS) && npm ci --no-progress --loglevel=error
	@touch $@

test: test-deps test-terraform ## every test: vet, short fuzzing, unit, cross-check, CLI, Terraform and journey tests
	$(GO) vet ./...
	@$(MAKE) --no-print-directory fuzz-short
	@command -v gcc >/dev/null || { echo "the race detector needs a C compiler: apt-get install gcc"; exit 1; }
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m ./...  # the one go test pass: every package under -race
	cd examples/kubernetes && $(GO) vet ./... && $(GO) test -count=1 ./...
	@$(MAKE) --no-print-directory e2e

# The Terraform module's tests (internal/tftest, build tag "terraform"): fmt, validate, terraform test on a mocked
# provider, tfsec, and apply/rotate/destroy against moto. terraform and the provider mirror ship with the machine
# image; the CLI config points at the mirror when it exists and at the registry otherwise.
TF_MIRROR ?= /opt/tf-plugins
TFSEC     := $(CACHE)/bin/tfsec
.PHONY: test-terraform

test-terraform: $(TFSEC) ## Terraform module: fmt, validate, terraform test, tfsec, apply/destroy against moto
	@command -v terraform >/dev/null || { echo "terraform is required: install Terraform >= 1.9 (https://developer.hashicorp.com/terraform/install)"; exit 1; }
	@mkdir -p $(CACHE); if [ -d $(TF_MIRROR)/registry.terraform.io/hashicorp/aws ]; then \
		printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n' $(TF_MIRROR) >$(CACHE)/terraform.rc; \
	else echo "no provider mirror in $(TF_MIRROR): terraform init downloads hashicorp/aws from the registry"; : >$(CACHE)/terraform.rc; fi
	$(GO) vet -tags terraform ./internal/tftest
	TF_CLI_CONFIG_FILE=$(CACHE)/terraform.rc CHECKPOINT_DISABLE=1 $(GO) test -tags terraform -count=1 -parallel 4 -timeout 20m ./internal/tftest

$(TFSEC): # pinned: the proxy refuses @latest for some tools; the first build takes minutes, so it is cached
	GOBIN=$(CACHE)/bin $(GO) install github.com/aquasecurity/tfsec/cmd/tfsec@v1.26.0

# Permanent links: concurrent revocations and follows lose no revocation, under the race detector (which needs cgo
# and a C compiler), on the file store and on moto's DynamoDB.
.PHONY: test-race
test-race: ## permanent-link stores and handlers under -race
	@command -v gcc >/dev/null || { echo "the race detector needs a C compiler: apt-get install gcc"; exit 1; }
	CGO_ENABLED=1 $(GO) test -race -count=1 -run 'Conformance|Concurrent|Replicas' ./internal/links/... ./internal/httpapi/

# make soak: the long form of the security suite (internal/securitytest): 100,000 generated scope cases
# checked by the independent model, and a 60 s bounded loopback load; the figures are printed at the end.
.PHONY: soak
soak: ## security soak: 100,000 scope cases and a 60 s load, then the figures (cases, violations, errors, p99, memory)
	@mkdir -p $(CACHE)
	$(GO) test -c -o $(CACHE)/securitytest.test ./internal/securitytest
	cd internal/securitytest && $(CACHE)/securitytest.test -soak -test.count=1 -test.timeout=20m

# Each fuzz target runs on its own (go test -fuzz takes one at a time).
FUZZ_TARGETS := \
	./policy:FuzzEncodeKey \
	./policy:FuzzCanonicalURL \
	./policy:FuzzDecode \
	./policy:FuzzGlob \
	./keys:FuzzParsePrivateKey \
	./edge:FuzzCheck \
	./internal/links:FuzzParseToken \
	./internal/httpapi:FuzzNoServerErrorForInput

fuzz-short: ## run every fuzz target briefly (FUZZTIME, default 5s)
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg >/dev/null || \
			{ $(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg; exit 1; }; \
	done

fuzz: ## fuzz every target for longer (FUZZTIME=2m by default here)
	@$(MAKE) --no-print-directory fuzz-short FUZZTIME=$(if $(filter 5s,$(FUZZTIME)),2m,$(FUZZTIME))

# make bench: Go micro benchmarks (testing.Benchmark, allocations counted), the npm signer as the fastest
# peer, and a load test of the service over 127.0.0.1, every figure a ratio against a baseline measured in
# the same run (bench/README.md). About 2–3 minutes on 2 cores. bench-soak is the 60 s RSS check at the
# cache's full size; bench-go the micro benchmarks alone for benchstat.
.PHONY: bench-soak bench-go
bench: test-deps ## benchmarks: a table of ratios against baselines of the same run, and bench/results.json
	$(GO) run ./bench

bench-soak: ## RSS of the service under a 60 s churn at the cache's full size (merged into bench/results.json)
	$(GO) run ./bench -soak 60s

bench-go: ## the micro benchmarks alone (go test -bench -benchmem), for benchstat
	$(GO) test -run='^$$' -bench=. -benchmem ./bench ./issuer

lint: ## gofmt, go vet, and terraform fmt when terraform is present
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-clean:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt: ## gofmt every Go file
	gofmt -w $$(git ls-files '*.go')

clean: ## remove build output and caches
	rm -rf bin $(CACHE) $(ORACLE_JS)/node_modules $(EXAMPLES_WEB)/node_modules

# The three journeys (examples/, its own Go module so the browser driver stays out of the service's): the example
# apps and their end-to-end tests with real clients (ffmpeg, curl, headless Chromium). Generated HLS content, the
# test CA and screenshots go to .cache/examples/. -mod=mod lets the examples' go.sum follow new dependencies of the
# service without a manual tidy.
EXAMPLES_WEB := examples/web
E2E_GO       := cd examples && GOFLAGS=-mod=mod $(GO)
.PHONY: e2e e2e-deps example-course example-ebooks example-assets

e2e-deps: $(EXAMPLES_WEB)/node_modules/.installed ## install what the journeys need: chromium, ffmpeg, curl (apt) and hls.js (npm)
	@missing=""; for c in chromium ffmpeg curl; do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing; \
		else echo "the journeys need:$$missing (apt-get install$$missing)"; exit 1; fi; \
	fi

$(EXAMPLES_WEB)/node_modules/.installed: $(EXAMPLES_WEB)/package.json $(EXAMPLES_WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is required for hls.js: apt-get install nodejs npm"; exit 1; }
	cd $(EXAMPLES_WEB) && npm ci --no-progress --loglevel=error
	@touch $@

e2e: e2e-deps ## the three journeys end to end: ffmpeg (HLS + cookies), curl (ebook URL), Chromium (lesson, cached assets)
	$(E2E_GO) vet -tags e2e ./...
	$(E2E_GO) test -tags e2e -count=1 -p 1 -timeout 10m ./...  # -p 1: one browser at a time on 2 cores, one content cache

example-course: e2e-deps ## journey 1: the course app with an HLS lesson, on https://app.example.test (prints how to open it)
	$(E2E_GO) run ./course

example-ebooks: e2e-deps ## journey 2: the ebook app with Download links (signed URLs)
	$(E2E_GO) run ./ebooks

example-assets: e2e-deps ## journey 3: pages with signed, browser-cached assets
	$(E2E_GO) run ./assets
