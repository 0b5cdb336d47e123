GO ?= go
FUZZTIME ?= 30s

.PHONY: test vet race bench fuzz interop build

# The test command README.md and .ci/run name: vet plus the race-enabled suite.
test: vet
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

build:
	$(GO) build -o bin/imapfault ./cmd/imapfault

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...
