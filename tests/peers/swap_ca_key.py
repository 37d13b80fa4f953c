"""Plays an intruder who can write a CA folder but holds no CA key: makes a key of its own, a self-signed CA
certificate with the CA's subject (byte for byte) and the folder's other settings untouched, puts it in
`ca.pem`/`ca.cer`, and signs `checkpoint.json` again with that key, as certkit would have.

usage: swap_ca_key.py CA_DIR
"""
import base64
import datetime
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ca_dir = sys.argv[1]
with open(os.path.join(ca_dir, "ca.pem"), "rb") as f:
    old = x509.load_pem_x509_certificate(f.read())
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(old.subject)
    .issuer_name(old.subject)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(days=1))
    .not_valid_after(now + datetime.timedelta(days=3650))
    .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
    .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    .sign(key, hashes.SHA256())
)
with open(os.path.join(ca_dir, "ca.pem"), "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
with open(os.path.join(ca_dir, "ca.cer"), "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.DER))

path = os.path.join(ca_dir, "checkpoint.json")
with open(path) as f:
    cp = json.load(f)
settings = hashlib.sha256(json.dumps(cp["settings"], separators=(",", ":")).encode()).hexdigest()
state = cp["state"]
message = (
    "certkit checkpoint v2\n"
    f"head {cp['head']}\ncount {cp['count']}\nbytes {cp['bytes']}\ntime {cp['time']}\n"
    f"settings {settings}\n"
    f"revoked {state['revoked']['count']} {state['revoked']['sha256']}\n"
    f"undelivered {state['undelivered']['count']} {state['undelivered']['sha256']}\n"
)
cp["algorithm"] = "sha256WithRSAEncryption"
cp["signature"] = base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
with open(path, "w") as f:
    json.dump(cp, f, indent=2)
