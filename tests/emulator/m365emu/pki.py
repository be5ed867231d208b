"""The emulator's CA, its TLS server certificate and the key that signs access tokens."""

import base64
import datetime
import hashlib
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = ("login.microsoftonline.com", "graph.microsoft.com", "*.sharepoint.com", "localhost")


def _write_private(path, data):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _write_public(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_key(path):
    with open(path, "rb") as handle:
        return serialization.load_pem_private_key(handle.read(), password=None)


def _load_cert_file(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def ensure_tls_files(data_dir):
    """Create (once) the CA and the server certificate; returns (ca_pem_path, server_cert_path, server_key_path)."""
    ca_path = os.path.join(data_dir, "ca.pem")
    ca_key_path = os.path.join(data_dir, "ca-key.pem")
    cert_path = os.path.join(data_dir, "server.pem")
    key_path = os.path.join(data_dir, "server-key.pem")
    now = datetime.datetime.now(datetime.timezone.utc)
    if os.path.exists(ca_path) and os.path.exists(ca_key_path):
        ca_cert = _load_cert_file(ca_path)
        ca_key = _load_key(ca_key_path)
    else:
        ca_key = _new_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "m365-emulator test CA"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "m365-emulator (test only)")])
        ca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
                   .sign(ca_key, hashes.SHA256()))
        _write_private(ca_key_path, _key_pem(ca_key))
        _write_public(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM))
        for stale in (cert_path, key_path):
            if os.path.exists(stale):
                os.remove(stale)
    if not (os.path.exists(cert_path) and os.path.exists(key_path)):
        key = _new_key()
        sans = [x509.DNSName(name) for name in SERVER_NAMES] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "login.microsoftonline.com")]))
                .issuer_name(ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=825))
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        _write_private(key_path, _key_pem(key))
        _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return ca_path, cert_path, key_path


def server_ssl_context(cert_path, key_path):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    context.set_alpn_protocols(["http/1.1"])
    return context


def load_or_create_signing_key(data_dir):
    """The RSA key that signs access tokens, and its key id."""
    path = os.path.join(data_dir, "token-signing-key.pem")
    if os.path.exists(path):
        key = _load_key(path)
    else:
        key = _new_key()
        _write_private(path, _key_pem(key))
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip("=")
    return key, kid


def load_certificate(pem):
    if isinstance(pem, str):
        pem = pem.encode("ascii")
    return x509.load_pem_x509_certificate(pem)


def thumbprints(cert):
    """(sha1 hex upper, base64url sha1 unpadded, base64url sha256 unpadded) of a certificate."""
    der = cert.public_bytes(serialization.Encoding.DER)
    sha1 = hashlib.sha1(der).digest()
    sha256 = hashlib.sha256(der).digest()
    return (sha1.hex().upper(), base64.urlsafe_b64encode(sha1).decode().rstrip("="),
            base64.urlsafe_b64encode(sha256).decode().rstrip("="))
