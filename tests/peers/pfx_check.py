"""Opens a PFX with Python `cryptography` (an implementation independent of OpenSSL's PKCS#12 code path in
certkit) and prints what it found as JSON.

usage: pfx_check.py FILE.pfx   (password from $PFX_PW); exit 3 with {"error": ...} if it cannot be opened.
"""
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

with open(sys.argv[1], "rb") as f:
    data = f.read()
try:
    key, cert, extra = pkcs12.load_key_and_certificates(data, os.environb[b"PFX_PW"])
    bundle = pkcs12.load_pkcs12(data, os.environb[b"PFX_PW"])
except ValueError as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(3)

spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
der = cert.public_bytes(serialization.Encoding.DER)
print(json.dumps({
    "has_key": key is not None,
    "key_matches": key is not None and key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki),
    "thumbprint": hashlib.sha1(der).hexdigest().upper(),
    "subject": cert.subject.rfc4514_string(),
    "friendly_name": bundle.cert.friendly_name.decode() if bundle.cert.friendly_name else None,
    "additional": [c.subject.rfc4514_string() for c in extra],
}))
