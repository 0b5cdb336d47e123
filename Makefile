GO ?= go
FUZZTIME ?= 30s

.PHONY: test vet race bench fuzz soak interop build browser compliance image

# The test command README.md and .ci/run name: vet plus the race-enabled suite,
# then the tests that race instrumentation would distort (stack sizes).
test: vet
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run '^TestIdleSessionStack$$' ./server/

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
# install (the tests then skip with the same message; with
# IMAPFAULT_INTEROP_REQUIRE=1, as .ci/run sets it, they fail instead). The
# results table is written to docs/interop.md. Debian's prometheus (with
# promtool) scrapes imapfault monitor and checks docs/monitor.md's rules.
# python3 and Node.js (20 or later, for imapflow; the control API's
# examples) are installed from Debian when missing.
INTEROP_DEBS = curl isync fetchmail dovecot-imapd prometheus python3 nodejs npm
INTEROP_BINS = curl mbsync fetchmail dovecot prometheus promtool python3 node npm

interop:
	@missing=""; \
	for b in $(INTEROP_BINS); do command -v $$b >/dev/null 2>&1 || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(INTEROP_DEBS); \
		else \
			echo "interop: missing:$$missing: run 'apt-get install $(INTEROP_DEBS)' as root; their tests skip (IMAPFAULT_INTEROP_REQUIRE=1: fail)"; \
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

# Runs every fuzz target for FUZZTIME each, one after the other: go test
# fuzzes one target per package per run. A crash leaves its input under
# the package's testdata/fuzz, where plain go test replays it. Minimizing
# a new input may take go test's default of 60s, the whole budget: it is
# bounded to 5s so that the time goes to fuzzing. Go 1.26's coordinator
# can fail a target with a bare "context deadline exceeded" as FUZZTIME
# ends (go.dev/issue/75804, fixed in Go 1.27): such a run, with no failing
# input written, is tried again, up to three times.
fuzz:
	@set -e; out=$$(mktemp); trap 'rm -f "$$out"' EXIT; \
	for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			for try in 1 2 3; do \
				echo "fuzz: $$pkg $$target"; \
				if $(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s $$pkg >"$$out" 2>&1; then \
					cat "$$out"; break; \
				fi; \
				cat "$$out"; \
				if [ $$try = 3 ] || grep -q 'Failing input written' "$$out" || ! grep -q 'context deadline exceeded' "$$out"; then exit 1; fi; \
				echo "fuzz: the coordinator raced its own deadline (go.dev/issue/75804): again"; \
			done; \
		done; \
	done

# 2,000 connections over 60 seconds against a server playing random
# faults; checks that goroutines, heap and sockets come back to where
# they started.
soak:
	$(GO) test -tags soak -run '^TestSoak$$' -count=1 -timeout 5m -v ./server

# Builds the container image (Dockerfile) with podman, its build stage
# replaced by a binary built here so that no registry is needed, and checks
# its user, ports and healthcheck. As root it installs podman when missing;
# with IMAPFAULT_INTEROP_REQUIRE=1 (CI) a missing podman fails the test.
image:
	@if ! command -v podman >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y podman; \
		else \
			echo "image: podman is missing: run 'apt-get install podman' as root"; \
		fi; \
	fi
	$(GO) test -tags image -count=1 -run '^TestImageBuild$$' ./cmd/imapfault

# Loads every page (a check's page, the audit report, the monitor's
# dashboard) in headless Chromium driven by chromedp: no console error, no
# request leaving the page, the charts as drawn. As root it installs
# Debian's chromium when missing; with IMAPFAULT_INTEROP_REQUIRE=1 (CI) a
# missing chromium fails the tests instead of skipping them. Screenshots
# go to $(IMAPFAULT_ARTIFACTS)/browser for people to look at.
IMAPFAULT_ARTIFACTS ?= $(CURDIR)/testdata-out

browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
		else \
			echo "browser: chromium is missing: run 'apt-get install chromium' as root"; \
		fi; \
	fi
	IMAPFAULT_ARTIFACTS=$(IMAPFAULT_ARTIFACTS) $(GO) test -tags browser -count=1 -timeout 10m -run '^TestBrowser' ./report/...

# Dovecot's imaptest (compliance scripts, then stress) against a plaintext
# copy of healthy: 0 failed groups and no stress error expected (issue 15).
# imaptest is in neither Debian nor the Go module proxy, and this
# repository neither holds nor builds it: build it yourself from Dovecot's
# imaptest sources (against Dovecot 2.3 headers) and point IMAPTEST at the
# binary (its tests/ folder beside it, or IMAPTEST_TESTS=DIR). CI cannot
# get those sources, so CI does not run this target.
IMAPTEST ?= $(shell command -v imaptest 2>/dev/null)
IMAPTEST_TESTS ?= $(dir $(IMAPTEST))tests

compliance: build
	@if [ -z "$(IMAPTEST)" ] || [ ! -x "$(IMAPTEST)" ] || [ ! -d "$(IMAPTEST_TESTS)" ]; then \
		echo "compliance: imaptest not found (IMAPTEST='$(IMAPTEST)', IMAPTEST_TESTS='$(IMAPTEST_TESTS)')."; \
		echo "  Build Dovecot's imaptest (github.com/dovecot/imaptest, a version for Dovecot 2.3) yourself, then"; \
		echo "  make compliance IMAPTEST=path/to/imaptest IMAPTEST_TESTS=path/to/its/tests"; \
		exit 1; \
	fi
	bash interop/imaptest.sh bin/imapfault "$(IMAPTEST)" "$(IMAPTEST_TESTS)"
