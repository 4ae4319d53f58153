# sms1708 — `make` alone lists the targets. Each target's `## ` comment is its help line.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Steps of `make test` must run in order even under `make -j`.
.NOTPARALLEL:

# Go may be installed where a fresh shell (or CI) does not look: /usr/local/go/bin for the
# toolchain, $(go env GOPATH)/bin for tools installed with `go install`.
export PATH := /usr/local/go/bin:$(PATH)
GOPATH_BIN := $(shell PATH='$(PATH)' go env GOPATH 2>/dev/null)
ifneq ($(GOPATH_BIN),)
export PATH := $(PATH):$(GOPATH_BIN)/bin
endif

# How long each Fuzz target runs: 30s for `make fuzz`, 3s in `make test` unless given.
FUZZTIME ?= 30s
TEST_FUZZTIME := $(if $(filter command line environment,$(origin FUZZTIME)),$(FUZZTIME),3s)

# WITH_SERVICES starts PostgreSQL and Redis (if they are not running) and exports the
# SMS1708_* URLs for them, plus SMS1708_REQUIRE_SERVICES=1 so that a test that cannot reach
# them fails instead of skipping. Prefix a recipe line with it.
WITH_SERVICES = scripts/services.sh start && eval "$$(scripts/services.sh env)" && export SMS1708_REQUIRE_SERVICES=1 &&

section = printf '\n==> %s\n' '$(1)'

.PHONY: help build services services-stop run test test-go smoke lint vet lint-selftest fuzz bench clean

help: ## list the targets (the default)
	@echo 'usage: make <target> [FUZZTIME=30s]'
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## build bin/sms1708 and bin/smscsim
	go build -o bin/ ./cmd/...

services: ## start local PostgreSQL (127.0.0.1:25708) and Redis (127.0.0.1:26708), installing what is missing
	scripts/services.sh start

services-stop: ## stop the local PostgreSQL and Redis
	scripts/services.sh stop

run: ## start services, migrate, start the SMSC simulator and run the daemon with configs/dev.yaml
	scripts/run.sh

test: ## what CI runs: lint, lint-selftest, race tests, a brief fuzz pass (FUZZTIME=3s) and smoke
	@$(call section,services)
	@scripts/services.sh start
	@$(MAKE) --no-print-directory lint lint-selftest test-go
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)
	@$(MAKE) --no-print-directory smoke
	@$(MAKE) --no-print-directory chaos CHAOS_SIZE=small
	@$(call section,make test: ok)

test-go: ## go test -race -count=1 ./... against the local PostgreSQL and Redis
	@$(call section,go test -race -count=1 ./...)
	@$(WITH_SERVICES) go test -race -count=1 ./...

smoke: ## end to end: make run in the background, one SMS in, a valid ticket number back
	@$(call section,smoke)
	@scripts/smoke.sh

vet: ## go vet ./...
	@$(call section,go vet ./...)
	@go vet ./...

lint: vet ## go vet, gofmt and the import rules of DESIGN.md (scripts/lint-imports.sh)
	@$(call section,gofmt -l)
	@files=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path './bin/*'); \
	bad=$$(if [ -n "$$files" ]; then gofmt -l $$files; fi); \
	if [ -n "$$bad" ]; then printf 'lint: not gofmt-ed (run gofmt -w):\n%s\n' "$$bad"; exit 1; fi
	@$(call section,import rules)
	@scripts/lint-imports.sh

lint-selftest: ## check that scripts/lint-imports.sh accepts good imports and rejects bad ones
	@$(call section,lint-imports self-test)
	@scripts/lint-imports.sh --self-test

# Fuzz targets are found per package (go test -fuzz takes one package and one target at a
# time): packages whose test files declare a func Fuzz…, then `go test -list` for the names.
fuzz: ## run every Fuzz target for FUZZTIME each (default 30s)
	@$(call section,fuzz: each target for $(FUZZTIME))
	@$(WITH_SERVICES) \
	pkgs=$$(go list -f '{{$$d := .Dir}}{{.ImportPath}}{{range .TestGoFiles}} {{$$d}}/{{.}}{{end}}{{range .XTestGoFiles}} {{$$d}}/{{.}}{{end}}' ./...); \
	n=0; \
	while read -r pkg files; do \
	  [ -n "$$files" ] && grep -qs '^func Fuzz' $$files || continue; \
	  list=$$(go test -list '^Fuzz' "$$pkg"); \
	  for name in $$(printf '%s\n' "$$list" | grep '^Fuzz' || true); do \
	    echo "--- $$pkg $$name"; \
	    log=$$(mktemp); \
	    if ! go test -run '^$$' -fuzz "^$$name\$$" -fuzztime '$(FUZZTIME)' "$$pkg" 2>&1 | tee "$$log"; then \
	      if grep -q 'context deadline exceeded' "$$log" && ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$$log"; then \
	        echo "--- $$pkg $$name again: Go's fuzz coordinator reported its own -fuzztime deadline (go.dev/issue/75804, fixed in Go 1.27), no failing input"; \
	        go test -run '^$$' -fuzz "^$$name\$$" -fuzztime '$(FUZZTIME)' "$$pkg"; \
	      else rm -f "$$log"; exit 1; fi; \
	    fi; \
	    rm -f "$$log"; \
	    n=$$((n + 1)); \
	  done; \
	done <<<"$$pkgs"; \
	echo "fuzz: $$n targets, $(FUZZTIME) each"

bench: ## run the benchmarks only: go test -bench . -benchmem ./...
	@$(call section,bench)
	@$(WITH_SERVICES) go test -run '^$$' -bench . -benchmem ./...

clean: ## remove bin/
	rm -rf bin/

.PHONY: eval-routing
eval-routing: ## routing scores (category, agency, per category/level, triage share) on testdata/routing/test.tsv; SPLIT=train (+ERRORS=1) while tuning
	@go build -o bin/sms1708 ./cmd/sms1708
	@tail -n +2 testdata/routing/$(or $(SPLIT),test).tsv | cut -f1,2 | bin/sms1708 route --config configs/dev.yaml --batch \
	  | go run ./scripts/evalrouting -labels testdata/routing/$(or $(SPLIT),test).tsv $(if $(ERRORS),-errors)

# Crash tests and load (docs/RELIABILITY.md): the real daemon under `smscsim load`, on ports
# 2775-2777 (no make run meanwhile) and 127.0.0.1:8718, with a PostgreSQL and Redis of their
# own (127.0.0.1:25718 and 26718, under /tmp/sms1708-chaos) so that crashing them breaks no
# one else's run. `make test` runs the small size: any lost MO or doubled ticket fails it.
CHAOS_SIZE ?= medium
CHAOS_FLAGS ?=
.PHONY: chaos load
chaos: ## crash tests under load: kill -9, PostgreSQL and Redis down, SMSC cuts; CHAOS_SIZE=small|medium|large CHAOS_FLAGS='--seed N'
	@$(call section,chaos ($(CHAOS_SIZE)))
	@go build -o bin/ ./cmd/sms1708 ./cmd/smscsim ./cmd/chaos
	@bin/chaos --size $(CHAOS_SIZE) --build=false $(CHAOS_FLAGS)

load: ## the real daemon under smscsim load, no fault, end state checked; LOAD_COUNT=3000 LOAD_RATE=200 (0: as fast as acks allow)
	@go build -o bin/ ./cmd/sms1708 ./cmd/smscsim ./cmd/chaos
	@bin/chaos --faults none --size medium --build=false $(if $(LOAD_COUNT),--count $(LOAD_COUNT)) $(if $(LOAD_RATE),--rate $(LOAD_RATE)) $(CHAOS_FLAGS)
