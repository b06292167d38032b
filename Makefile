# The two commands: `make run` serves the console, `make test` runs every test.
.PHONY: run test setup build bench

run:
	scripts/run.sh

test:
	scripts/test.sh

setup:
	scripts/setup.sh --test

build:
	cargo xtask build --release

# Performance figures of BENCH.md (not part of `make test`): release build, loopback only.
bench:
	cargo xtask build --release
	cargo run --release --package bench
