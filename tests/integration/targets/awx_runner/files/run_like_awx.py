# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: run a job template of the collection's AWX pattern as AWX / Automation Controller runs a job.

  run_like_awx.py credential SETUP_YML PEM CLIENT_ID OUT_JSON
      A credential of the pattern's credential type, as an administrator enters it: the client id, the certificate
      with its private key encrypted under a new random password, and that password. OUT_JSON (mode 0600) plays
      the controller's credential store; nothing else ever holds the password.
  run_like_awx.py job SPEC_JSON OUT_JSON
      One job, run with ansible-runner. SPEC_JSON names the pattern's setup.yml, the job template, the project
      checkout, the credential file, the private data directory and ident, the inventory, the extra variables AWX
      sets (awx_job_id, awx_workflow_job_id, ...) and the environment of the execution environment. The credential
      reaches the job only through the credential type's injectors, rendered the way AWX renders them
      (awx/main/models/credential/__init__.py, CredentialType.inject_credential): a sandboxed Jinja environment, each
      file template written to a 0600 file under <private data dir>/env whose path is tower.filename, each env
      injector rendered into the job's environment. The job sees no other SPO_ or ANSIBLE_ variable of this process.
      OUT_JSON: status, rc, the set_stats artifacts, the injected variable names, and the secret scan of the
      runner's artifacts and stdout.
  run_like_awx.py guide SETUP_YML GUIDE_RST
      Print the parts of the credential type (inputs, injectors) that the AWX guide shows as the pattern defines
      them, and those it shows otherwise: the guide's YAML blocks after ".. spo-credential-type: <part>".

ansible-runner records the environment it starts ansible-playbook with, injected credentials included, in
artifacts/<ident>/command (mode 0600, in the private data directory AWX removes after the job). AWX keeps that
environment only through build_safe_env, which hides every variable whose name has API, TOKEN, KEY, SECRET or PASS
(awx/main/models/credential/__init__.py). So the scan reads that file as AWX stores it, and reports separately which
variables of the raw file hold a secret: only the injected SPO_CERTIFICATE_PASSWORD may.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import types

import ansible_runner
import yaml
from cryptography.hazmat.primitives import serialization
from jinja2.sandbox import ImmutableSandboxedEnvironment

# AWX refuses injected environment variables whose names start with ANSIBLE_ (docs/credentials in ansible/awx).
_PROHIBITED_PREFIX = "ANSIBLE_"
# The names whose values AWX hides when it stores a job's environment (build_safe_env), and what it shows instead.
_HIDDEN_NAME = re.compile(r"API|TOKEN|KEY|SECRET|PASS", re.IGNORECASE)
_HIDDEN_VALUE = "**********"


class _SetupLoader(yaml.SafeLoader):
    """setup.yml as the controller receives it: Ansible's !unsafe strings are plain strings."""


_SetupLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _load_setup(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_SetupLoader)


def _credential_type(setup):
    types = setup["controller_credential_types"]
    if len(types) != 1:
        raise SystemExit("the pattern should define one credential type, it defines %d" % len(types))
    return types[0]


def _write_private(path, text):
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write(text)


def make_credential(setup_path, pem_path, client_id, out_path):
    with open(pem_path, "rb") as handle:
        pem = handle.read()
    key = serialization.load_pem_private_key(pem, password=None)
    password = secrets.token_hex(16)
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(password.encode("ascii"))).decode("ascii")
    certificate = pem.decode("ascii")
    certificate = certificate[certificate.index("-----BEGIN CERTIFICATE-----"):]
    inputs = {"client_id": client_id, "certificate": encrypted + certificate, "certificate_password": password}
    fields = {field["id"] for field in _credential_type(_load_setup(setup_path))["inputs"]["fields"]}
    if set(inputs) - fields:
        raise SystemExit("the credential type has no field for %s" % sorted(set(inputs) - fields))
    _write_private(out_path, json.dumps({"inputs": inputs}))


def _inject(credential_type, inputs, private_data_dir):
    """The environment AWX builds from a credential of this type (the part of inject_credential for env and file)."""
    fields = credential_type["inputs"]["fields"]
    missing = [name for name in credential_type["inputs"].get("required", []) if not inputs.get(name)]
    if missing:
        raise SystemExit("the credential lacks required inputs %s" % missing)

    tower = types.SimpleNamespace()
    namespace = {"tower": tower}
    for field in fields:
        value = inputs.get(field["id"])
        if value:
            namespace[field["id"]] = value
    sandbox = ImmutableSandboxedEnvironment()
    injectors = credential_type["injectors"]
    env_dir = os.path.join(private_data_dir, "env")
    os.makedirs(env_dir, exist_ok=True)
    for label, template in injectors.get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as stream:
            stream.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." in label:
            raise SystemExit("the test renders the single-file form (file.template) only")
        tower.filename = path
    env = {}
    for name, template in injectors.get("env", {}).items():
        if name.startswith(_PROHIBITED_PREFIX):
            raise SystemExit("AWX would refuse the injected variable %s" % name)
        env[name] = sandbox.from_string(template).render(**namespace)
    return env


def _secret_texts(inputs):
    """What must never show: the key password and every line of the encrypted private key."""
    key = inputs["certificate"].split("-----BEGIN CERTIFICATE-----")[0]
    return [inputs["certificate_password"]] + [line for line in key.splitlines() if len(line) >= 16 and "-----" not in line]


def _scan(paths, texts, skip=()):
    """(files scanned, [(file, what)]) for every file under paths, but those in skip, that contains one of texts."""
    scanned, hits = 0, []
    for top in paths:
        for directory, _dirs, names in os.walk(top):
            for name in names:
                path = os.path.join(directory, name)
                if path in skip:
                    continue
                with open(path, "rb") as handle:
                    content = handle.read().decode("utf-8", errors="replace")
                scanned += 1
                hits.extend((path, "the key password" if index == 0 else "the private key")
                            for index, text in enumerate(texts) if text in content)
    return scanned, hits


def _safe_env(env):
    """The environment as AWX stores it for a job (build_safe_env: ANSIBLE_ settings kept, secret-like names hidden)."""
    return {name: value if name.startswith("ANSIBLE_") or not _HIDDEN_NAME.search(name) else _HIDDEN_VALUE
            for name, value in env.items()}


def _runner_command(artifacts, texts):
    """(the runner's command file as AWX stores it, the names of its raw environment that hold a secret)."""
    with open(os.path.join(artifacts, "command"), encoding="utf-8") as handle:
        command = json.load(handle)
    holders = sorted(name for name, value in command["env"].items() if any(text in str(value) for text in texts))
    return dict(command, env=_safe_env(command["env"])), holders


def _clean_environment():
    """The job inherits nothing of this test's SPO_ and ANSIBLE_ settings: what it gets comes from the spec."""
    for name in list(os.environ):
        if name.startswith(("SPO_", "ANSIBLE_")):
            del os.environ[name]


def run_job(spec_path, out_path):
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    setup = _load_setup(spec["setup"])
    template = next(item for item in setup["controller_templates"] if item["name"] == spec["template"])
    with open(spec["credential"], encoding="utf-8") as handle:
        inputs = json.load(handle)["inputs"]

    pdd = spec["private_data_dir"]
    os.makedirs(os.path.join(pdd, "inventory"))
    shutil.copytree(spec["project"], os.path.join(pdd, "project"))
    with open(os.path.join(pdd, "inventory", "hosts.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(spec["inventory"], handle)
    injected = _inject(_credential_type(setup), inputs, pdd)

    _clean_environment()
    env = dict(spec["env"], PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    env.update(injected)
    runner = ansible_runner.run(private_data_dir=pdd, ident=spec["ident"], playbook=template["playbook"],
                                inventory=os.path.join(pdd, "inventory", "hosts.yml"), envvars=env,
                                extravars=spec["extra_vars"], quiet=True)

    stats = next((event for event in runner.events if event.get("event") == "playbook_on_stats"), {})
    stdout = runner.stdout.read()
    artifacts = os.path.join(pdd, "artifacts", spec["ident"])
    texts = _secret_texts(inputs)
    command_file = os.path.join(artifacts, "command")
    scanned, leaks = _scan([artifacts], texts, skip=(command_file,))
    stored_command, secret_holders = _runner_command(artifacts, texts)
    leaks += [("runner command file, as AWX stores it", "secret") for text in texts if text in json.dumps(stored_command)]
    leaks += [("runner stdout", "secret") for text in texts if text in stdout]
    # The certificate file the injector wrote holds the key: the same scan finds it there, so it can find a leak.
    _control_scanned, control_hits = _scan([os.path.join(pdd, "env")], texts)
    certificate_path = injected.get("SPO_CERTIFICATE_PATH", "")
    result = {
        "status": runner.status,
        "rc": runner.rc,
        "artifact_data": stats.get("event_data", {}).get("artifact_data"),
        "injected_env": sorted(injected),
        "certificate_file_mode": oct(stat.S_IMODE(os.stat(certificate_path).st_mode)) if os.path.isfile(certificate_path) else None,
        "scanned_files": scanned,
        "leaks": leaks,
        "command_env_holding_secrets": secret_holders,
        "control_hits": len(control_hits),
        "stdout_tail": stdout.splitlines()[-40:],
    }
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)


def _guide_blocks(path):
    """{part: parsed YAML} of the code blocks that follow ".. spo-credential-type: <part>" in an rst file."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    blocks = {}
    for number, line in enumerate(lines):
        if not line.startswith(".. spo-credential-type: "):
            continue
        start = next(index for index in range(number + 1, len(lines)) if lines[index].startswith(".. code-block::")) + 1
        body = []
        for text in lines[start:]:
            if text and not text.startswith(" "):
                break
            body.append(text)
        blocks[line.split(":", 1)[1].strip()] = yaml.safe_load("\n".join(body))
    return blocks


def check_guide(setup_path, guide_path):
    credential_type = _credential_type(_load_setup(setup_path))
    shown = _guide_blocks(guide_path)
    parts = ("inputs", "injectors")
    json.dump({"same": [part for part in parts if shown.get(part) == credential_type[part]],
               "different": [part for part in parts if shown.get(part) != credential_type[part]]}, sys.stdout)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "credential":
        make_credential(*args)
    elif command == "guide":
        check_guide(*args)
    elif command == "job":
        run_job(*args)
    else:
        raise SystemExit("unknown command %s" % command)


if __name__ == "__main__":
    main()
