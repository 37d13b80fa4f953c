"""Verifies a certificate with Python cryptography's strict RFC 5280 path builder, the root as the only trust
anchor: prints "ok", or "rejected: WHY" and exits 1.

usage: path_check.py ROOT.pem LEAF.pem server DNS-NAME | client  [--untrusted CA.pem ...]
  (--untrusted: intermediate CA certificates the path may go through, as a TLS peer presents them)
"""
import datetime
import sys

from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError


def load(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


args, untrusted = [], []
rest = sys.argv[1:]
while rest:
    arg = rest.pop(0)
    if arg == "--untrusted":
        untrusted.append(load(rest.pop(0)))
    else:
        args.append(arg)
root, leaf, kind = load(args[0]), load(args[1]), args[2]
builder = PolicyBuilder().store(Store([root])).time(datetime.datetime.now(datetime.timezone.utc))
try:
    if kind == "server":
        builder.build_server_verifier(x509.DNSName(args[3])).verify(leaf, untrusted)
    else:
        builder.build_client_verifier().verify(leaf, untrusted)
except VerificationError as e:
    print(f"rejected: {e}")
    sys.exit(1)
print("ok")
