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

# The one benchmark command (issue 7): the Go benchmarks, then the harness
# measuring the server beside Dovecot, idle connections, verify and check
# beside curl; writes docs/benchmarks.md. As root it installs dovecot-imapd
# when missing; otherwise the Dovecot columns are skipped with a message.
bench: build
	$(GO) run ./bench/cmd/imapbench -go $(GO) -bin bin/imapfault -out docs/benchmarks.md

# Runs the tester against Debian's dovecot-imapd on loopback. As root it
# installs the package when missing; otherwise it says what to install (the
# tests then skip with the same message).
interop:
	@if ! command -v dovecot >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd; \
		else \
			echo "interop: dovecot is not installed: run 'apt-get install dovecot-imapd' as root"; \
		fi; \
	fi
	$(GO) test -tags interop -count=1 -timeout 10m ./interop/...
