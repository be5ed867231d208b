#!/usr/bin/env bash
# make demo: the emulator with the demo seed, generated source data, both playbooks across the three demo
# tenants (by FQCN, from this repository as the installed collection), the combined report, then cleanup.
# Assumes `make venv` has run. Environment knobs: PYTHON (default .venv/bin/python), DEMO_KEEP=1 keeps the
# temporary directory, DEMO_RERUN=0 skips the idempotent rerun, DEMO_FORKS (default 10).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
BIN="$(dirname "$PY")"
SEED="$ROOT/tests/emulator/seeds/demo.json"
CLIENT_ID="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["tenants"][0]["apps"][0]["client_id"])' "$SEED")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/spo-demo.XXXXXX")"
EMU_PID=""

cleanup() {
    if [ -n "$EMU_PID" ] && kill -0 "$EMU_PID" 2>/dev/null; then
        kill "$EMU_PID" 2>/dev/null || true
        wait "$EMU_PID" 2>/dev/null || true
    fi
    if [ "${DEMO_KEEP:-0}" = "1" ]; then
        echo "Kept $WORK (emulator data, inventory, source data, reports)."
    else
        rm -rf "$WORK"
        echo "Removed $WORK (emulator data, inventory, source data, reports); run with DEMO_KEEP=1 to keep it."
    fi
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT"

step "Starting the Microsoft 365 emulator on port $PORT (data in $WORK/emulator)"
"$PY" "$ROOT/tests/emulator/m365-emulator" --port "$PORT" --data-dir "$WORK/emulator" --seed "$SEED" \
    >"$WORK/emulator.log" 2>&1 &
EMU_PID=$!

control() {  # control <method> <path> [json body]; the control plane is never proxied
    "$PY" - "$1" "$URL/_emulator/$2" "${3:-}" <<'PYEOF'
import sys, urllib.request
method, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
request = urllib.request.Request(url, method=method, data=body.encode() if body else None,
                                 headers={"Content-Type": "application/json"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(request, timeout=10) as response:
    sys.stdout.write(response.read().decode() + "\n")
PYEOF
}

for _ in $(seq 1 120); do
    if control GET health >/dev/null 2>&1; then break; fi
    if ! kill -0 "$EMU_PID" 2>/dev/null; then cat "$WORK/emulator.log" >&2; echo "The emulator did not start." >&2; exit 1; fi
    sleep 0.5
done
control GET health >/dev/null || { cat "$WORK/emulator.log" >&2; echo "The emulator is not healthy." >&2; exit 1; }
# Real import jobs take minutes; the demo's take seconds.
control POST faults '{"job_delay": 2, "job_duration": 3}' >/dev/null

step "Generating demo source data (HR exports with a few bad rows, photos)"
"$PY" "$ROOT/scripts/make_demo_data.py" --emulator-url "$URL" --out "$WORK/data"

step "Writing a temporary inventory (one host per tenant) and collection path"
mkdir -p "$WORK/collections/ansible_collections/spo" "$WORK/inventory/group_vars" "$WORK/inventory/host_vars"
ln -sfn "$ROOT" "$WORK/collections/ansible_collections/spo/user_profiles"
cat >"$WORK/inventory/hosts.yml" <<YAML
spo_tenants:
  hosts:
    contoso:
    fabrikam:
    northwind:
YAML
cat >"$WORK/inventory/group_vars/spo_tenants.yml" <<YAML
ansible_connection: local
ansible_python_interpreter: "$PY"
spo_client_id: "$CLIENT_ID"
spo_certificate_path: "$ROOT/tests/emulator/seeds/test-app.pem"
spo_ca_path: "$WORK/emulator/ca.pem"
bulk_import_src: "$WORK/data/{{ inventory_hostname }}.csv"
bulk_import_id_type: email
bulk_import_id_property: mail
bulk_import_property_map:
  employee_id: EmployeeId
  cost_center: CostCenter
  building: Building
bulk_import_file_prefix: demo-hr
bulk_import_poll_delay: 2
bulk_import_progress_interval: 10
# The demo data holds users who fail on purpose (make_demo_data.py); the roles' defaults (0 and true) fail the tenant.
bulk_import_allowed_failures: 10
profile_photos_src_dir: "$WORK/data/photos/{{ inventory_hostname }}"
profile_photos_fail_on_error: false
spo_report_dir: "$WORK/reports"
YAML
"$PY" - "$SEED" "$WORK/inventory/host_vars" <<'PYEOF'
import json, os, sys
for tenant in json.load(open(sys.argv[1]))["tenants"]:
    with open(os.path.join(sys.argv[2], tenant["name"] + ".yml"), "w") as handle:
        handle.write("spo_tenant_id: %s\n" % tenant["tenant_id"])
PYEOF

export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
export ANSIBLE_FORKS="${DEMO_FORKS:-10}"
export ANSIBLE_CALLBACK_RESULT_FORMAT=yaml
export ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_RETRY_FILES_ENABLED=false
export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-0}"
export HTTPS_PROXY="$URL" https_proxy="$URL" NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
# The emulator is the only HTTPS endpoint of the run; trust its CA even where requests prefers the environment.
export REQUESTS_CA_BUNDLE="$WORK/emulator/ca.pem"
cd "$WORK"

step "Bulk import across the three tenants: ansible-playbook spo.user_profiles.sync_profiles"
"$BIN/ansible-playbook" -i "$WORK/inventory" spo.user_profiles.sync_profiles -e spo_run_id=demo-profiles

step "Profile photos across the three tenants: ansible-playbook spo.user_profiles.sync_photos"
"$BIN/ansible-playbook" -i "$WORK/inventory" spo.user_profiles.sync_photos -e spo_run_id=demo-photos

if [ "${DEMO_RERUN:-1}" = "1" ]; then
    step "Rerun of both with unchanged sources: the bulk import sends only the 4 users per tenant its job refused (they are retried; nothing else is sent), the photos change nothing (the photo of the unknown user fails again)"
    # The evidence: each run's table across tenants, contoso's delta line, and the recap.
    "$BIN/ansible-playbook" -i "$WORK/inventory" spo.user_profiles.sync_profiles -e spo_run_id=demo-profiles-rerun \
        | sed -n '/^Tenant /,/^Reports: /p; /PLAY RECAP/,$p'
    printf 'contoso.md: '; grep '^- Delta' "$WORK/reports/demo-profiles-rerun/contoso.md"
    echo
    "$BIN/ansible-playbook" -i "$WORK/inventory" spo.user_profiles.sync_photos -e spo_run_id=demo-photos-rerun \
        | sed -n '/^Tenant /,/^Reports: /p; /PLAY RECAP/,$p'
fi

step "Combined report of the first bulk import ($WORK/reports/demo-profiles/combined.md)"
cat "$WORK/reports/demo-profiles/combined.md"
echo
tenant_reports=()
for report in "$WORK"/reports/demo-profiles/*.md; do
    case "$report" in */combined.md) ;; *) tenant_reports+=("$report") ;; esac
done
echo "Per-tenant reports of that run: ${tenant_reports[*]}"
