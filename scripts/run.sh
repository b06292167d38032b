#!/usr/bin/env bash
# Builds the release binary with its embedded console and serves it on http://localhost:3000
# over an embedded SQLite database in ./latchkey-data (override with LATCHKEY_* variables).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo xtask build --release
exec target/release/latchkey serve
