# The two commands a newcomer needs:
#   make dev    run Sellvy locally (local AWS stack, gateway on :3000, a demo store and its keys)
#   make test   run every test (installs what it needs, starts and stops the local stack)
.PHONY: dev test stack stop lint bench

dev:
	bash infra/local/dev.sh

test:
	bash infra/local/test.sh

# Only the local stack (DynamoDB Local + SQS), left running in the background.
stack:
	bash infra/local/stack.sh start

stop:
	bash infra/local/stack.sh stop

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# Cold starts, warm latency, size and DynamoDB calls of every HTTP function in release, beside a
# bare lambda_http hello (not part of `make test`; docs/performance.md has one run).
bench:
	bash infra/bench/bench.sh
