#!/usr/bin/env bash
# Regenerate etc/*.conf.sample from the options in code (tests fail when they are stale).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
gen=$(dirname "$(command -v python)")/oslo-config-generator
for spec in etc/oslo-config-generator/*.conf; do
    "$gen" --config-file "$spec"
    echo "wrote $(sed -n 's/^output_file = //p' "$spec")"
done
