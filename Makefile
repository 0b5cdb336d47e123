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

# Runs the tester against Debian's dovecot-imapd, and real clients (curl,
# imaplib, mbsync, fetchmail, imapflow) against the fake server, both on
# loopback. As root it installs what is missing; otherwise it says what to
# install (the tests then skip with the same message). The results table is
# written to docs/interop.md.
# python3 and Node.js (20 or later, for imapflow) are expected on the
# machine; their tests skip when they are not.
INTEROP_DEBS = curl isync fetchmail dovecot-imapd
INTEROP_BINS = curl mbsync fetchmail dovecot

interop:
	@missing=""; \
	for b in $(INTEROP_BINS); do command -v $$b >/dev/null 2>&1 || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(INTEROP_DEBS); \
		else \
			echo "interop: missing:$$missing: run 'apt-get install $(INTEROP_DEBS)' as root"; \
		fi; \
	fi
	@if [ ! -d interop/node/node_modules/imapflow ]; then \
		if command -v npm >/dev/null 2>&1; then \
			npm install --prefix interop/node --no-audit --no-fund; \
		else \
			echo "interop: imapflow is not installed: run 'npm install --prefix interop/node'"; \
		fi; \
	fi
	IMAPFAULT_INTEROP_TABLE=$(CURDIR)/docs/interop.md $(GO) test -tags interop -count=1 -timeout 10m ./interop/...
