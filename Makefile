# Build, run and test the Zuora meter run-status function.
# `sam build` calls build-RunStatusFunction with ARTIFACTS_DIR set.

SHELL := /bin/bash
GO    ?= go

# Tools are pinned and installed from the Go module proxy into ./bin.
BIN                 := $(CURDIR)/bin
RIE_VERSION         := v0.0.0-20261030222936-bef5c4ba774d
STATICCHECK_VERSION := v0.8.2
RIE                 := $(BIN)/aws-lambda-rie
STATICCHECK         := $(BIN)/staticcheck

# Local (host-architecture) builds for `make run`; the deployable build is arm64.
LOCAL     := $(CURDIR)/.local
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

EVENT ?= events/direct.json

.PHONY: build-RunStatusFunction build tools local-binaries run invoke test unit lint check-chromium bench clean

build-RunStatusFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o "$(ARTIFACTS_DIR)/bootstrap" ./cmd/runstatus

## build: the arm64 bootstrap into .aws-sam/build/RunStatusFunction, as `sam build` would.
build:
	$(MAKE) --no-print-directory build-RunStatusFunction ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/RunStatusFunction

## tools: the Lambda Runtime Interface Emulator and staticcheck, pinned.
tools: $(RIE) $(STATICCHECK)

$(RIE):
	GOBIN=$(BIN) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# The function for this machine, as Lambda runs it, and the command that runs it.
local-binaries:
	@mkdir -p $(LOCAL)
	CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(LOCAL)/bootstrap ./cmd/runstatus
	$(GO) build -o $(LOCAL)/localrun ./cmd/localrun

## run: the function end to end on this machine: moto_server, the Zuora simulator, the runtime emulator, every event in events/.
run: $(RIE) local-binaries
	$(LOCAL)/localrun -bootstrap $(LOCAL)/bootstrap -rie $(RIE) -events events

## invoke EVENT=events/x.json: the same, with one event.
invoke: $(RIE) local-binaries
	$(LOCAL)/localrun -bootstrap $(LOCAL)/bootstrap -rie $(RIE) -event $(EVENT)

## bench: the function against the bare and the SDK floor (cmd/localrun/testdata), built alike and measured in one run under the same emulator; then the handler's Go benchmarks and the Zuora client's 500-meter batch against Zuora's limits.
BENCH_DIR := $(LOCAL)/bench
FLOORS    := floor sdkfloor
bench: $(RIE) local-binaries
	$(MAKE) --no-print-directory build-RunStatusFunction ARTIFACTS_DIR=$(BENCH_DIR)/arm64
	for f in $(FLOORS); do \
	  CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BENCH_DIR)/$$f/bootstrap ./cmd/localrun/testdata/$$f && \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BENCH_DIR)/$$f-arm64/bootstrap ./cmd/localrun/testdata/$$f || exit 1; \
	done
	$(LOCAL)/localrun bench -bootstrap $(LOCAL)/bootstrap -arm64 $(BENCH_DIR)/arm64/bootstrap -rie $(RIE) \
	  -floor $(BENCH_DIR)/floor/bootstrap -floor-arm64 $(BENCH_DIR)/floor-arm64/bootstrap \
	  -sdk-floor $(BENCH_DIR)/sdkfloor/bootstrap -sdk-floor-arm64 $(BENCH_DIR)/sdkfloor-arm64/bootstrap
	$(GO) test -run '^$$' -bench . -benchmem ./handler/
	$(GO) test -run '^$$' -bench Batch500 -benchtime 1x ./zuora/

## test: formatting, vet, staticcheck, cfn-lint, then every Go test with -race (unit, integration, end to end, the sam-style build, the widget in Chromium).
test: check-chromium lint
	RIE_BIN=$(RIE) $(GO) test -race -count=1 -parallel 8 -timeout 20m ./...

## unit: the fast tests only.
unit:
	$(GO) test -race -short ./...

# The widget's browser tests run a headless Chromium: CHROMIUM, else chromium
# or chromium-browser on PATH (as internal/widget/browsertest finds it).
check-chromium:
	@if [ -n "$$CHROMIUM" ]; then \
	  command -v "$$CHROMIUM" >/dev/null || { echo "make test: CHROMIUM=$$CHROMIUM is not an executable" >&2; exit 1; }; \
	elif ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
	  echo "make test: no Chromium for the widget's browser tests: install Debian's package chromium (apt-get install chromium), or set CHROMIUM to its path" >&2; exit 1; \
	fi

lint: $(STATICCHECK) $(RIE)
	@unformatted=$$(gofmt -l cmd handler internal zuora); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cfn-lint template.yaml

clean:
	rm -rf $(BIN) $(LOCAL) .aws-sam
