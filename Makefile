# harness: see README.md. Every target installs what it needs first.
export PATH := /usr/local/go/bin:$(PATH)
export CGO_ENABLED := 0

GO      ?= go
BIN     := bin/harness
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: all build man deps deps-build deps-bpf deps-selftests deps-vng deps-report run run-stock test unit e2e bench bench-build bench-cache bench-selftests bpf bpf-check vet clean

all: build

# Debian packages the harness needs at run time, installed when missing.
deps:
	@scripts/deps qemu-system-x86 kmod

# Packages to build kernels (harness build, run --tree). The bundled
# example's Linux 7.3 source comes from Debian's trixie-backports through
# a private apt configuration in the cache (scripts/debian-package), so
# the machine's apt sources stay as they are; debian-archive-keyring
# checks its signatures.
deps-build:
	@scripts/deps build-essential flex bison bc libelf-dev libssl-dev ccache pahole git debian-archive-keyring xz-utils

# More packages to regenerate the BPF objects, and for --bpf-source.
deps-bpf:
	@scripts/deps clang llvm libbpf-dev linux-libc-dev bpftool

# What harness selftests needs to build the tree's test_progs: Linux
# 6.12's BPF programs need clang 18 or newer, which is Debian 12's clang-19.
deps-selftests:
	@scripts/deps clang-19 rsync python3 zlib1g-dev libelf-dev pahole

# virtme-ng's dependencies, all Debian 12 packages. vng itself is Debian's
# virtme-ng package (suite sid, Architecture: all), which
# scripts/virtme-ng downloads through a private apt configuration and
# unpacks in the cache: nothing installed, the apt sources untouched.
deps-vng:
	@scripts/deps python3 python3-requests python3-argcomplete busybox-static file iproute2 kbd kmod util-linux-extra

# The browser the report.html test opens the page in.
deps-report:
	@scripts/deps chromium

build:
	$(GO) build -trimpath -ldflags "-X github.com/kernel-harness/harness/harness/version.Stamped=$(VERSION)" -o $(BIN) ./cmd/harness

# The main job, on the bundled example: a git tree of Debian's Linux 7.3
# source (fetched and made once, in the cache), our port of the series
# applied in the harness's worktree, the kernel built (or taken from the
# cache), booted, and every scenario run; it fails if the series' hook
# was not exercised.
run: deps deps-build build
	tree=$$(scripts/example-tree 7.3) && $(BIN) run --tree "$$tree" --series selftests/series/rcvq-7.3 --require-hook

# The quick look: every scenario on Debian's prebuilt kernel, which has no
# hook (the autolowat cases are unsupported), in about a minute.
run-stock: deps build
	$(BIN) run

# Every test: unit tests, the BPF objects up to date, and the end-to-end
# tests that boot Debian's 6.12 cloud kernel under QEMU.
test: deps deps-build deps-bpf deps-selftests deps-vng deps-report vet bpf-check
	$(GO) test -count=1 -timeout 100m ./...

# Unit tests only: no VM is booted, no kernel built or fetched (the
# end-to-end tests skip under -short and say so).
unit:
	$(GO) test -short -count=1 ./...

e2e: deps build
	$(GO) test -count=1 -v -run E2E ./test/e2e/

# Boot and run times, over 5 runs each, as a table.
bench: deps
	$(GO) test -run '^$$' -bench Boot -benchtime 5x -timeout 30m ./test/e2e/

# A --tree run whose kernel is in the cache against a --kernel run of the
# same image, one scenario each, as a table with their ratio.
bench-cache: deps deps-build build
	$(GO) test -run '^$$' -bench CachedTree -benchtime 3x -timeout 60m ./test/e2e/

# Cold kernel builds on Debian's 6.12 tree: objects compiled and time for
# the minimal profile against a defconfig-sized kernel, and a one-file
# rebuild, as a table. About 20 minutes on 2 cores.
bench-build: deps-build
	$(GO) test -run '^$$' -bench 'KernelBuild|CcacheElsewhere' -benchtime 1x -timeout 150m ./test/e2e/

# test_progs builds on Debian's 6.12 tree with our port: cold, and again
# from a fresh checkout of the same sources, as a table. About 5 minutes
# with the selftests kernel in the cache.
bench-selftests: deps-build deps-selftests
	$(GO) test -run '^$$' -bench SelftestsBuild -benchtime 1x -timeout 60m ./test/e2e/

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

# Regenerate the committed bpf2go output from selftests/progs/*.bpf.c.
bpf: deps-bpf
	CGO_ENABLED=1 $(GO) generate ./selftests/progs/

# Fails when the committed BPF objects differ from what the sources give.
bpf-check: deps-bpf
	@scripts/bpf-check

clean:
	rm -rf bin harness-out

# Man pages of every command, from the same definitions as --help, into
# MANDIR (not committed: releases ship them, made by this target).
MANDIR ?= man
man: build
	$(BIN) gen-man $(MANDIR)
