"""Command line and start-up: TLS material, the store, the seed, then the server in the foreground."""

import argparse
import json
import os
import random
import signal
import sys
import unicodedata

from . import importjobs, pki
from .proxy import EmulatorServer
from .store import Store

FIRST_NAMES = ("Adele", "Alex", "Allan", "Ben", "Bianca", "Carla", "Chen", "Diego", "Eva", "Fatima", "Grady",
               "Hanna", "Henrietta", "Isaiah", "Jürgen", "Johanna", "Joni", "Lee", "Lidia", "Lynne", "Megan",
               "Miriam", "Nestor", "Noémie", "Olga", "Patti", "Pradeep", "Raúl", "Sakura", "Sofia", "Tomás",
               "Uma", "Vera", "Wei", "Xavier", "Yusuf", "Zoë", "Ana", "Björn", "Chloé")
LAST_NAMES = ("Vance", "Wilber", "Deyoung", "Walker", "Kowalski", "Müller", "Zhang", "García", "Sørensen",
              "Nguyen", "Archer", "O'Brien", "Smith", "Johnson", "Brown", "Taylor", "Anderson", "Thomas",
              "Jackson", "White", "Harris", "Martin", "Thompson", "Moore", "Clark", "Lewis", "Robinson",
              "Hall", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
              "Campbell", "Mitchell")
DEPARTMENTS = ("Sales", "Marketing", "Finance", "Engineering", "Operations", "Legal", "Human Resources", "Support")
TITLES = ("Analyst", "Engineer", "Manager", "Specialist", "Consultant", "Director", "Coordinator", "Architect")
OFFICES = ("Seattle 1/101", "Munich 2/204", "London 3/310", "Paris 1/115", "Tokyo 4/402", "Sydney 2/220")


def _ascii(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("'", "")


def generate_users(name, spec):
    """Deterministic users for a seed tenant: {"count", "domain", "without_profile"?, "guests"?, "seed"?}."""
    count = int(spec["count"])
    domain = spec.get("domain") or "%s.com" % name
    rng = random.Random("%s/%s" % (name, spec.get("seed", 1)))
    if count > len(FIRST_NAMES) * len(LAST_NAMES):
        raise ValueError("generate_users supports at most %d users" % (len(FIRST_NAMES) * len(LAST_NAMES)))
    without_profile = int(spec.get("without_profile", 0))
    guests = int(spec.get("guests", 0))
    users = []
    for index in range(count):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
        local = ("%s.%s" % (_ascii(first), _ascii(last))).lower()
        user = {"display_name": "%s %s" % (first, last), "given_name": first, "surname": last,
                "department": rng.choice(DEPARTMENTS), "job_title": rng.choice(TITLES),
                "office": rng.choice(OFFICES), "phone": "+1 425 555 %04d" % index,
                "employee_id": "E%06d" % (index + 1)}
        if index >= count - guests:
            partner = "%s@partner-%s.example" % (local, name)
            user.update({"upn": "%s#EXT#@%s.onmicrosoft.com" % (partner.replace("@", "_"), name),
                         "mail": partner, "guest": True})
        else:
            user.update({"upn": "%s@%s" % (local, domain), "mail": "%s@%s" % (local, domain)})
        if count - guests - without_profile <= index < count - guests:
            user["has_profile"] = False
        users.append(user)
    return users


def expand_seed_tenant(spec, seed_dir):
    """Turn a seed tenant (compact form) into a POST /_emulator/tenants body."""
    spec = dict(spec)
    generator = spec.pop("generate_users", None)
    users = generate_users(spec["name"], generator) if generator else []
    users += spec.get("users") or []
    spec["users"] = users
    apps = []
    for app in spec.get("apps") or []:
        app = dict(app)
        cert_file = app.pop("certificate_file", None)
        if cert_file:
            with open(os.path.join(seed_dir, cert_file), encoding="ascii") as handle:
                app["certificate_pem"] = _first_certificate(handle.read())
        apps.append(app)
    spec["apps"] = apps
    return spec


def _first_certificate(pem_text):
    begin = pem_text.index("-----BEGIN CERTIFICATE-----")
    end = pem_text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return pem_text[begin:end] + "\n"


def load_seed(store, path):
    """Create the seed's tenants that do not exist yet; returns the names created."""
    with open(path, encoding="utf-8") as handle:
        seed = json.load(handle)
    created = []
    for spec in seed.get("tenants", []):
        if store.tenant(spec["name"]) is not None:
            continue
        store.create_tenant(expand_seed_tenant(spec, os.path.dirname(os.path.abspath(path))))
        created.append(spec["name"])
    return created


def main(argv=None):
    parser = argparse.ArgumentParser(prog="m365-emulator", description="A local Microsoft 365 tenant emulator.")
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (proxy and control plane)")
    parser.add_argument("--data-dir", required=True, help="directory holding all state; reused on restart")
    parser.add_argument("--seed", help="JSON seed file; its tenants are created when missing")
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    data_dir = os.path.abspath(args.data_dir)
    os.makedirs(data_dir, exist_ok=True)
    cert_path, key_path = pki.ensure_tls_files(data_dir)[1:]
    store = Store(data_dir)
    if args.seed:
        created = load_seed(store, args.seed)
        if created:
            print("m365-emulator: seeded tenants %s" % ", ".join(created), file=sys.stderr)
    importjobs.on_start(store)
    server = EmulatorServer(store, args.host, args.port, pki.server_ssl_context(cert_path, key_path))

    def stop(_signum, _frame):
        server.shutdown()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("m365-emulator: listening on 127.0.0.1:%d, data in %s" % (server.port, data_dir), file=sys.stderr,
          flush=True)
    server.serve_forever()
    return 0
