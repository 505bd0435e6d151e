# Developer entry points. The scripts do the work; see each one's header.
#
#   make demo    fetch the native library, build livekit-server (~5 min the first
#                time), then join a local room with tokencheck inside a private
#                network namespace and watch the server refresh the token, then
#                run the media probe (make demo-media) through the same server
#   make demo-media  the media probe alone: two participants, tone bursts and a
#                frame counter from A to B, data and RPC round trips, measured
#   make test    the whole suite (scripts/test.sh: namespace, server and library required)
#   make build   compile every package and bin/tokencheck
#   make lint    gofmt and go vet
#   make clean   remove bin/

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO ?= go
BIN := bin
# Override to try other flags, e.g. make demo DEMO_FLAGS='--dev --join --watch 1m --json'
DEMO_FLAGS ?= --dev --join --watch 15s --expect-refresh
# e.g. make demo-media DEMO_MEDIA_FLAGS='--dev --join --media --json --media-duration 10s'
DEMO_MEDIA_FLAGS ?= --dev --join --media

.PHONY: all build test lint demo demo-media clean

all: build

build:
	$(GO) build ./...
	$(GO) build -o $(BIN)/tokencheck ./cmd/tokencheck

test:
	scripts/test.sh

lint:
	@files="$$(gofmt -l .)"; \
	if [[ -n "$$files" ]]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$files"; exit 1; fi
	$(GO) vet ./...

# Each script prints the path it produced as the last line of stdout.
# DEMO_ENV fetches the library and the server and builds tokencheck, in the
# recipe's shell; DEMO_RUN runs tokencheck with the flags in $(1) inside a
# private network namespace (and says so when Ctrl-C stopped it).
DEMO_ENV = lib="$$(scripts/build-ffi.sh | tail -n 1)"; \
	srv="$$(scripts/install-livekit-server.sh | tail -n 1)"; \
	$(GO) build -o $(BIN)/tokencheck ./cmd/tokencheck; \
	echo "demo: native library $$lib" >&2; \
	echo "demo: livekit-server $$srv" >&2; \
	export LIVEKIT_LIB_PATH="$$lib" LIVEKIT_SERVER_BIN="$$srv"
DEMO_RUN = echo "demo: $(BIN)/tokencheck $(1)" >&2; \
	scripts/netns.sh $(BIN)/tokencheck $(1) || { rc=$$?; \
		if [ $$rc -eq 130 ]; then echo "demo: interrupted (Ctrl-C); the server and the namespace are gone" >&2; fi; exit $$rc; }

demo:
	@$(DEMO_ENV); \
	$(call DEMO_RUN,$(DEMO_FLAGS)); \
	$(call DEMO_RUN,$(DEMO_MEDIA_FLAGS))

demo-media:
	@$(DEMO_ENV); \
	$(call DEMO_RUN,$(DEMO_MEDIA_FLAGS))

clean:
	rm -rf $(BIN)
