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

.PHONY: build-RunStatusFunction build tools run invoke test unit lint bench clean

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

local-binaries:
	@mkdir -p $(LOCAL)
	CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(LOCAL)/bootstrap ./cmd/runstatus
	$(GO) build -o $(LOCAL)/zuora-sim ./cmd/zuora-sim
	$(GO) build -o $(LOCAL)/localrun ./cmd/localrun

## run: the function end to end on this machine: Zuora simulator, moto_server, the runtime emulator, every event in events/.
run: $(RIE) local-binaries
	$(LOCAL)/localrun -bootstrap $(LOCAL)/bootstrap -sim $(LOCAL)/zuora-sim -rie $(RIE) -sim-config cmd/localrun/testdata/meters.json -events events

## invoke EVENT=events/x.json: the same, with one event.
invoke: $(RIE) local-binaries
	$(LOCAL)/localrun -bootstrap $(LOCAL)/bootstrap -sim $(LOCAL)/zuora-sim -rie $(RIE) -sim-config cmd/localrun/testdata/meters.json -event $(EVENT)

## bench: the function and the floor (the smallest aws-lambda-go function) built and measured in one run, under the same emulator; prints Markdown tables.
BENCH_DIR := $(LOCAL)/bench
bench: $(RIE) local-binaries
	@mkdir -p $(BENCH_DIR)/floor $(BENCH_DIR)/arm64 $(BENCH_DIR)/floor-arm64
	CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BENCH_DIR)/floor/bootstrap ./cmd/localrun/testdata/floor
	$(MAKE) --no-print-directory build-RunStatusFunction ARTIFACTS_DIR=$(BENCH_DIR)/arm64
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BENCH_DIR)/floor-arm64/bootstrap ./cmd/localrun/testdata/floor
	$(LOCAL)/localrun bench -bootstrap $(LOCAL)/bootstrap -floor $(BENCH_DIR)/floor/bootstrap \
	  -arm64 $(BENCH_DIR)/arm64/bootstrap -floor-arm64 $(BENCH_DIR)/floor-arm64/bootstrap \
	  -sim $(LOCAL)/zuora-sim -rie $(RIE) -sim-config cmd/localrun/testdata/meters.json -go $(GO)

## test: formatting, vet, staticcheck, cfn-lint, then every Go test with -race (unit, integration, end to end, the sam-style build).
test: lint
	RIE_BIN=$(RIE) $(GO) test -race -count=1 -timeout 20m ./...

## unit: the fast tests only.
unit:
	$(GO) test -race -short ./...

lint: $(STATICCHECK) $(RIE)
	@unformatted=$$(gofmt -l cmd handler zuora); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cfn-lint template.yaml

clean:
	rm -rf $(BIN) $(LOCAL) .aws-sam
