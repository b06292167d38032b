#!/usr/bin/env bash
# Every check CI runs: formatting, lints, unit and integration tests on SQLite and PostgreSQL,
# then the release build and the browser tests against it.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n\033[1m== %s (%ss)\033[0m\n' "$*" "$(( $(date +%s) - start ))"; }

step "setup"
scripts/setup.sh --test

step "format"
cargo fmt --all --check

step "lint (server, tests, tools)"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "lint (browser bundle)"
cargo clippy --package app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate --locked -- -D warnings

step "unit and integration tests (SQLite and PostgreSQL)"
cargo test --workspace --locked

step "release build (what 'make run' serves)"
cargo xtask build --release

step "browser tests (Chromium, release build)"
(cd end2end && npx playwright test)

step "all tests passed"
