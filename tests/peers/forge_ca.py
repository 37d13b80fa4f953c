"""Rewrites a certkit CA folder's certificate with Python `cryptography`, keeping its key, to make CAs that
certkit must refuse: `expired` (notAfter in the past) or `not-ca` (basicConstraints CA:FALSE).

usage: forge_ca.py CA_DIR expired|not-ca   (the CA key password is read from $CA_PW)
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

ca_dir, mode = sys.argv[1], sys.argv[2]
with open(os.path.join(ca_dir, "ca.key"), "rb") as f:
    key = serialization.load_pem_private_key(f.read(), os.environb[b"CA_PW"])
with open(os.path.join(ca_dir, "ca.pem"), "rb") as f:
    old = x509.load_pem_x509_certificate(f.read())

now = datetime.datetime.now(datetime.timezone.utc)
if mode == "expired":
    not_before, not_after, is_ca = now - datetime.timedelta(days=400), now - datetime.timedelta(days=1), True
elif mode == "not-ca":
    not_before, not_after, is_ca = now - datetime.timedelta(days=1), now + datetime.timedelta(days=400), False
else:
    sys.exit(f"unknown mode {mode}")

builder = (
    x509.CertificateBuilder()
    .subject_name(old.subject)
    .issuer_name(old.subject)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(not_before)
    .not_valid_after(not_after)
    .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
)
if is_ca:
    builder = builder.add_extension(
        x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
    )
cert = builder.sign(key, hashes.SHA256())
with open(os.path.join(ca_dir, "ca.pem"), "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
with open(os.path.join(ca_dir, "ca.cer"), "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.DER))
