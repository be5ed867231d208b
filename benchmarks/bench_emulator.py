"""Emulator speed: small REST requests per second through the proxy, and chunked upload MB/s.

Starts its own emulator on a free port with a temporary data dir, then prints each measurement with its
ratio to the target of issue 2 (>= 500 small requests/s with keep-alive, >= 200 MB/s chunked upload).
A ratio >= 1.0 meets the target. Usage: python benchmarks/bench_emulator.py [--requests N] [--upload-mb M]
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMULATOR = os.path.join(ROOT, "tests", "emulator", "m365-emulator")
SEEDS = os.path.join(ROOT, "tests", "emulator", "seeds")
CLIENT_ID = "6f1d2c4a-3b5e-4c7d-9e8f-0a1b2c3d4e5f"
ROLES = ["Sites.FullControl.All", "User.ReadWrite.All", "ProfilePhoto.ReadWrite.All"]
REST_TARGET = 500.0
UPLOAD_TARGET = 200.0


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_emulator(data_dir):
    port = free_port()
    process = subprocess.Popen([sys.executable, EMULATOR, "--port", str(port), "--data-dir", data_dir],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    control = requests.Session()
    control.trust_env = False
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if control.get("http://127.0.0.1:%d/_emulator/health" % port, timeout=1).ok:
                return process, port, control
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("emulator did not start")


def cpu_seconds(pid):
    """User + system CPU time of a process (Linux /proc), or None elsewhere."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def session_for(port, data_dir, token):
    session = requests.Session()
    session.trust_env = False
    session.verify = os.path.join(data_dir, "ca.pem")
    session.proxies = {"https": "http://127.0.0.1:%d" % port}
    session.headers["Authorization"] = "Bearer " + token
    return session


def acquire(port, data_dir, tenant, scope):
    import msal
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    with open(os.path.join(SEEDS, "test-app.pem"), encoding="ascii") as handle:
        pem = handle.read()
    thumbprint = x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA1()).hex()
    http = requests.Session()
    http.trust_env = False
    http.verify = os.path.join(data_dir, "ca.pem")
    http.proxies = {"https": "http://127.0.0.1:%d" % port}
    app = msal.ConfidentialClientApplication(CLIENT_ID, authority="https://login.microsoftonline.com/%s.onmicrosoft.com"
                                             % tenant, client_credential={"private_key": pem, "thumbprint": thumbprint},
                                             http_client=http)
    return app.acquire_token_for_client([scope])["access_token"]


def bench_rest(port, data_dir, tenant, total, clients):
    """Graph GET /users/{upn}: `clients` keep-alive connections in parallel (light http.client clients,
    in separate processes, so that the client side is not what is measured)."""
    token = acquire(port, data_dir, tenant, "https://graph.microsoft.com/.default")
    path = "/v1.0/users/user1@%s.example" % tenant
    per_client = total // clients
    command = [sys.executable, os.path.abspath(__file__), "--rest-client", str(port), os.path.join(data_dir, "ca.pem"),
               path, str(per_client)]
    workers = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) for dummy in range(clients)]
    outputs = [worker.communicate(token.encode())[0] for worker in workers]
    if any(worker.returncode for worker in workers):
        raise SystemExit("a REST client failed: %s" % outputs)
    # each client reports its own timed loop; the aggregate is requests over the longest loop
    loop_times = [float(out.decode().split()[0]) for out in outputs]
    return per_client * clients / max(loop_times)


def rest_client(port, ca_path, path, count):
    import http.client
    import ssl

    token = sys.stdin.read().strip()
    context = ssl.create_default_context(cafile=ca_path)
    conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=context)
    conn.set_tunnel("graph.microsoft.com", 443)
    headers = {"Authorization": "Bearer " + token}
    conn.request("GET", path, headers=headers)
    conn.getresponse().read()
    start = time.perf_counter()
    for dummy in range(int(count)):
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit("status %s" % response.status)
    print("%.6f" % (time.perf_counter() - start))


def bench_upload(port, data_dir, tenant, size_mb, chunk_mb, work_dir):
    token = acquire(port, data_dir, tenant, "https://%s.sharepoint.com/.default" % tenant)
    session = session_for(port, data_dir, token)
    session.headers["Accept"] = "application/json;odata=nometadata"
    site = "https://%s.sharepoint.com" % tenant
    source = os.path.join(work_dir, "upload.bin")
    block = os.urandom(1024 * 1024)
    with open(source, "wb") as handle:
        for dummy in range(size_mb):
            handle.write(block)
    name = "bench-%s.bin" % uuid.uuid4().hex[:8]
    folder = "/Shared Documents"
    file_url = "%s/%s" % (folder, name)
    chunk = chunk_mb * 1024 * 1024
    upload_id = str(uuid.uuid4())
    start = time.perf_counter()
    response = session.post("%s/_api/web/GetFolderByServerRelativeUrl('%s')/Files/add(url='%s',overwrite=true)"
                            % (site, folder, name), data=b"")
    if response.status_code != 200:
        return None, "Files/add answered %s: %s" % (response.status_code, response.text[:200])
    offset = 0
    size = size_mb * 1024 * 1024
    with open(source, "rb") as handle:
        while offset < size:
            data = handle.read(chunk)
            last = offset + len(data) >= size
            if offset == 0:
                method = "StartUpload(uploadId=guid'%s')" % upload_id
            elif last:
                method = "FinishUpload(uploadId=guid'%s',fileOffset=%d)" % (upload_id, offset)
            else:
                method = "ContinueUpload(uploadId=guid'%s',fileOffset=%d)" % (upload_id, offset)
            response = session.post("%s/_api/web/GetFileByServerRelativeUrl('%s')/%s" % (site, file_url, method),
                                    data=data)
            if response.status_code != 200:
                return None, "%s answered %s: %s" % (method.split("(", maxsplit=1)[0], response.status_code, response.text[:200])
            offset += len(data)
    elapsed = time.perf_counter() - start
    return size_mb / elapsed, None


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--rest-client":
        rest_client(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--upload-mb", type=int, default=512)
    parser.add_argument("--chunk-mb", type=int, default=64)
    args = parser.parse_args()
    work_dir = tempfile.mkdtemp(prefix="bench-emulator-")
    data_dir = os.path.join(work_dir, "data")
    process, port, control = start_emulator(data_dir)
    try:
        with open(os.path.join(SEEDS, "test-app.crt"), encoding="ascii") as handle:
            cert = handle.read()
        tenant = "bench"
        control.post("http://127.0.0.1:%d/_emulator/tenants" % port, json={
            "name": tenant, "users": [{"upn": "user%d@%s.example" % (i, tenant)} for i in range(100)],
            "apps": [{"client_id": CLIENT_ID, "certificate_pem": cert, "roles": ROLES}]}).raise_for_status()
        cpu_before = cpu_seconds(process.pid)
        rate = bench_rest(port, data_dir, tenant, args.requests, args.clients)
        cpu_used = cpu_seconds(process.pid) - cpu_before if cpu_before is not None else None
        print("small REST requests through the proxy (keep-alive, %d clients): %.0f req/s, ratio to target %.0f/s: %.2f"
              % (args.clients, rate, REST_TARGET, rate / REST_TARGET))
        if cpu_used:
            capacity = args.requests // args.clients * args.clients / cpu_used
            print("  emulator CPU per request: %.3f ms, i.e. %.0f req/s per emulator CPU second (ratio %.2f);"
                  " independent of other load on the machine" % (1000.0 / capacity, capacity, capacity / REST_TARGET))
        cpu_before = cpu_seconds(process.pid)
        speed, problem = bench_upload(port, data_dir, tenant, args.upload_mb, args.chunk_mb, work_dir)
        cpu_used = cpu_seconds(process.pid) - cpu_before if cpu_before is not None else None
        if problem:
            print("chunked upload: not measured (%s)" % problem)
        else:
            print("chunked upload of %d MB in %d MB chunks: %.0f MB/s, ratio to target %.0f MB/s: %.2f"
                  % (args.upload_mb, args.chunk_mb, speed, UPLOAD_TARGET, speed / UPLOAD_TARGET))
            if cpu_used:
                capacity = args.upload_mb / cpu_used
                print("  emulator CPU: %.2f s, i.e. %.0f MB per emulator CPU second (ratio %.2f)"
                      % (cpu_used, capacity, capacity / UPLOAD_TARGET))
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
