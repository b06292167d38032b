# The two commands: `make run` serves the console, `make test` runs every test.
.PHONY: run test setup build

run:
	scripts/run.sh

test:
	scripts/test.sh

setup:
	scripts/setup.sh --test

build:
	cargo xtask build --release
