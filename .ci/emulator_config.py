# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for .ci/integration.sh and the demo: wait for the emulator, write integration_config.yml.

  emulator_config.py wait URL PID LOG        wait until GET URL/_emulator/health answers 200 (60 s at most)
  emulator_config.py config URL CA SEED PEM  print integration_config.yml (YAML is a superset of JSON)
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request

WAIT_SECONDS = 60


def wait(url, pid, log):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            os.kill(int(pid), 0)
        except OSError:
            sys.stderr.write("the emulator exited during start-up:\n%s\n" % open(log, encoding="utf-8", errors="replace").read()[-4000:])
            sys.exit(1)
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(url + "/_emulator/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.stderr.write("the emulator did not answer %s/_emulator/health within %d s\n" % (url, WAIT_SECONDS))
    sys.exit(1)


def seed_apps(seed):
    """(certificate app, secret app) from the seed: the first app of each kind in any tenant."""
    tenants = seed.get("tenants", seed if isinstance(seed, list) else [])
    apps = list(seed.get("apps", [])) if isinstance(seed, dict) else []
    for tenant in tenants:
        apps.extend(tenant.get("apps", []))
    certificate_app = next((app for app in apps if not app.get("secret")), None)
    secret_app = next((app for app in apps if app.get("secret")), None)
    return certificate_app, secret_app


def config(url, ca, seed_path, pem):
    with open(seed_path, encoding="utf-8") as handle:
        seed = json.load(handle)
    certificate_app, secret_app = seed_apps(seed)
    values = {
        "emulator_url": url,
        "emulator_proxy": url,
        "emulator_ca": os.path.abspath(ca),
        "spo_test_certificate": os.path.abspath(pem),
        "spo_test_client_id": (certificate_app or {}).get("client_id"),
        "spo_test_secret_client_id": (secret_app or {}).get("client_id"),
        "spo_test_client_secret": (secret_app or {}).get("secret"),
        "spo_demo_tenants": [tenant.get("name") for tenant in seed.get("tenants", [])] if isinstance(seed, dict) else [],
    }
    sys.stdout.write(json.dumps(values, indent=2) + "\n")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "wait":
        wait(*args)
    elif command == "config":
        config(*args)
    else:
        sys.exit("unknown command %s" % command)


if __name__ == "__main__":
    main()
