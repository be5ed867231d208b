"""Write demo.json (and, when missing, the test app's certificate and key) next to this script.

The certificate is test-only key material for the emulator; it is never used for anything real.
Run it again only to change the seed: the committed files are what tests and the demo use.
"""
import datetime
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_CLIENT_ID = "6f1d2c4a-3b5e-4c7d-9e8f-0a1b2c3d4e5f"
SECRET_CLIENT_ID = "7a2e3d5b-4c6f-4d8e-8f90-1b2c3d4e5f60"
SECRET = "emulator-test-secret-not-real"
ROLES = ["Sites.FullControl.All", "User.ReadWrite.All", "ProfilePhoto.ReadWrite.All"]
CUSTOM_PROPERTIES = [
    {"name": "CostCenter"}, {"name": "EmployeeId"}, {"name": "Building"},
    {"name": "FavoriteColor", "user_editable": True},
    {"name": "Certifications", "multi_value": True},
]


def write_certificate(path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "spo.user_profiles emulator test app (TEST ONLY)")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    with open(path, "wb") as handle:
        handle.write(cert_pem + key_pem)
    with open(os.path.join(HERE, "test-app.crt"), "wb") as handle:
        handle.write(cert_pem)


def tenant(name, tenant_id):
    return {
        "name": name,
        "tenant_id": tenant_id,
        "generate_users": {"count": 1000, "domain": "%s.com" % name, "without_profile": 5, "guests": 5},
        "properties": CUSTOM_PROPERTIES,
        "apps": [
            {"client_id": TEST_CLIENT_ID, "certificate_file": "test-app.pem", "roles": ROLES},
            {"client_id": SECRET_CLIENT_ID, "secret": SECRET, "roles": ROLES},
        ],
    }


def main():
    cert_path = os.path.join(HERE, "test-app.pem")
    if not os.path.exists(cert_path):
        write_certificate(cert_path)
    seed = {
        "_comment": "Demo tenants for m365-emulator. generate_users expands to deterministic users "
                    "(see m365emu/main.py); the certificate and secret are test-only.",
        "tenants": [
            tenant("contoso", "2f4a9b1c-7d3e-4f5a-8b6c-9d0e1f2a3b4c"),
            tenant("fabrikam", "3a5b7c9d-1e2f-4a3b-9c4d-5e6f7a8b9c0d"),
            tenant("northwind", "4b6c8d0e-2f3a-4b5c-8d6e-7f8a9b0c1d2e"),
        ],
    }
    with open(os.path.join(HERE, "demo.json"), "w", encoding="utf-8") as handle:
        json.dump(seed, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main()
