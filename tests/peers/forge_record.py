"""Appends a forged `issued` record to a certkit inventory, chained correctly (its `prev` is the SHA-256 of the
last line), as an intruder who can write the CA folder but has no CA key would: the certificate is made by
Python `cryptography` with the CA's name as issuer and a key of the intruder's own.

usage: forge_record.py CA_DIR carried|copy|none   (the certificate goes into the record, into issued/, or nowhere)
prints the forged serial
"""
import base64
import datetime
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ca_dir, where = sys.argv[1], sys.argv[2]
with open(os.path.join(ca_dir, "ca.pem"), "rb") as f:
    ca = x509.load_pem_x509_certificate(f.read())
inventory = os.path.join(ca_dir, "inventory.jsonl")
with open(inventory, "rb") as f:
    lines = [l for l in f.read().split(b"\n") if l]
prev = hashlib.sha256(lines[-1]).hexdigest()

key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
serial = x509.random_serial_number()
cert = (
    x509.CertificateBuilder()
    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mallory")]))
    .issuer_name(ca.subject)
    .public_key(key.public_key())
    .serial_number(serial)
    .not_valid_before(now)
    .not_valid_after(now + datetime.timedelta(days=300))
    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    .sign(key, hashes.SHA256())
)
der = cert.public_bytes(serialization.Encoding.DER)
serial_hex = format(serial, "X")
serial_hex = "0" * (len(serial_hex) % 2) + serial_hex  # as certkit writes serials: whole bytes
stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
record = {
    "event": "issued",
    "serial": serial_hex,
    "subject": "CN=mallory",
    "cn": "mallory",
    "profile": "client",
    "sans": [],
    "extra_ekus": [],
    "key": "p256",
    "not_before": stamp(now),
    "not_after": stamp(now + datetime.timedelta(days=300)),
    "thumbprint": hashlib.sha1(der).hexdigest().upper(),
}
if where == "carried":
    record["der"] = base64.b64encode(der).decode()
record["prev"] = prev
with open(inventory, "ab") as f:
    f.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
if where == "copy":
    with open(os.path.join(ca_dir, "issued", serial_hex + ".cer"), "wb") as f:
        f.write(der)
print(serial_hex)
