"""Verifies a certificate with Python cryptography's strict RFC 5280 path builder, the root as the only trust
anchor: prints "ok", or "rejected: WHY" and exits 1.

usage: path_check.py ROOT.pem LEAF.pem server DNS-NAME | client
"""
import datetime
import sys

from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError


def load(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


root, leaf, kind = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
builder = PolicyBuilder().store(Store([root])).time(datetime.datetime.now(datetime.timezone.utc))
try:
    if kind == "server":
        builder.build_server_verifier(x509.DNSName(sys.argv[4])).verify(leaf, [])
    else:
        builder.build_client_verifier().verify(leaf, [])
except VerificationError as e:
    print(f"rejected: {e}")
    sys.exit(1)
print("ok")
