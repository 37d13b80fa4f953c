"""Replaces the certificate an `issued` record of a certkit inventory carries with one forged by Python
`cryptography`: the same serial, subject, validity and extended key usage, the CA's name as issuer, a key of the
intruder's own. Its issued/ copy and thumbprint follow, so only the CA's signature tells it apart. Made for a
record that the last checkpoint covers: the checkpoint vouches for it only while the chain up to its head holds.

usage: swap_covered_certificate.py CA_DIR LINE relink|leave
  relink: every later line's `prev` is recomputed (the chain holds; the head differs from the checkpoint's)
  leave:  later lines are left as they are (the next line's link breaks; the checkpoint's head still matches)
"""
import base64
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ca_dir, number, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(os.path.join(ca_dir, "ca.pem"), "rb") as f:
    ca = x509.load_pem_x509_certificate(f.read())
inventory = os.path.join(ca_dir, "inventory.jsonl")
with open(inventory, "rb") as f:
    lines = [l for l in f.read().split(b"\n") if l]

record = json.loads(lines[number - 1])
real = x509.load_der_x509_certificate(base64.b64decode(record["der"]))
key = ec.generate_private_key(ec.SECP256R1())
builder = (
    x509.CertificateBuilder()
    .subject_name(real.subject)
    .issuer_name(ca.subject)
    .public_key(key.public_key())
    .serial_number(real.serial_number)
    .not_valid_before(real.not_valid_before_utc)
    .not_valid_after(real.not_valid_after_utc)
)
for extension in real.extensions:
    if extension.oid in (x509.OID_EXTENDED_KEY_USAGE, x509.OID_SUBJECT_ALTERNATIVE_NAME):
        builder = builder.add_extension(extension.value, extension.critical)
der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
record["der"] = base64.b64encode(der).decode()
record["thumbprint"] = hashlib.sha1(der).hexdigest().upper()
lines[number - 1] = json.dumps(record, separators=(",", ":")).encode()
if mode == "relink":
    for i in range(number, len(lines)):
        later = json.loads(lines[i])
        later["prev"] = hashlib.sha256(lines[i - 1]).hexdigest()
        lines[i] = json.dumps(later, separators=(",", ":")).encode()
with open(inventory, "wb") as f:
    f.write(b"\n".join(lines) + b"\n")
with open(os.path.join(ca_dir, "issued", record["serial"] + ".cer"), "wb") as f:
    f.write(der)
print(record["serial"])
