#!/usr/bin/env bash
# Run the integration targets against a fresh emulator: start it on a free port with a temporary
# data directory and the demo seed, write integration_config.yml, run ansible-test, stop the emulator.
# Usage: .ci/integration.sh STAGED_COLLECTION_DIR PYTHON [ansible-test arguments...]
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
stage="$1"
python="$2"
shift 2

data="$(mktemp -d "${TMPDIR:-/tmp}/spo-emulator.XXXXXX")"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$python" "$repo/tests/emulator/m365-emulator" --port "$port" --data-dir "$data" \
    --seed "$repo/tests/emulator/seeds/demo.json" >"$data/emulator.log" 2>&1 &
emulator_pid=$!

# Stop the emulator and remove its data, whatever happens.
trap 'kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; rm -rf "$data"' EXIT

"$python" "$repo/.ci/emulator_config.py" wait "http://127.0.0.1:$port" "$emulator_pid" "$data/emulator.log"
"$python" "$repo/.ci/emulator_config.py" config "http://127.0.0.1:$port" "$data/ca.pem" "$repo/tests/emulator/seeds/demo.json" \
    "$repo/tests/emulator/seeds/test-app.pem" >"$stage/tests/integration/integration_config.yml"

cd "$stage"
status=0
version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
PATH="$(dirname "$python"):$PATH" "$(dirname "$python")/ansible-test" integration --local --python "$version" --color no "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- last lines of the emulator log ---" >&2
    tail -n 40 "$data/emulator.log" >&2 || true
fi
exit "$status"
