# The two commands a fresh machine needs: `make run` and `make test`.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: run build test tools vet unit short e2e bench

run: build
	./deploy/run-local.sh

build:
	$(GO) build -o bin/hubd ./cmd/hubd

# make test = vet + race tests of every package (real Postgres, Redis,
# WebSockets; the loadtest smoke scenario included) + the browser e2e test.
test: tools vet unit e2e

# promtool and docker-compose (Debian packages) for the deploy/ checks, and
# Mailpit (the real SMTP server the notification tests send to).
MAILPIT := .tools/bin/mailpit
STATICCHECK := .tools/bin/staticcheck
tools: $(MAILPIT) $(STATICCHECK)
	./deploy/check.sh --install-only

$(MAILPIT):
	GOBIN=$(CURDIR)/.tools/bin $(GO) install github.com/axllent/mailpit@v1.33.1

$(STATICCHECK):
	GOBIN=$(CURDIR)/.tools/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

# vet = go vet + gofmt + staticcheck + go.mod/go.sum exactly as `go mod tidy` leaves them.
vet: $(STATICCHECK)
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(STATICCHECK) ./...
	$(GO) mod tidy -diff

# DEPLOY_REQUIRE_TOOLS: after `tools`, a missing promtool/docker-compose is a
# failure, not a skip.
unit:
	DEPLOY_REQUIRE_TOOLS=1 $(GO) test -race -count=1 -timeout 20m ./...

# The fast tier: pure unit tests that need neither Postgres nor Redis.
short:
	$(GO) test -short -count=1 ./...

e2e:
	./http/webtest/run.sh

bench:
	./loadtest/bench.sh
