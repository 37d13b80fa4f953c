"""Lists every certificate signed by a CA that exists in any file under a folder, with Python `cryptography`
(independent of certkit): DER and PEM certificates, PEM bundles, and PFX files opened with $PFX_PW. The CA's
own certificates are left out (the current one, and any earlier one of the same key and subject, which `renew`
replaced). Used by the crash-point test: each of these must be in the CA's inventory.

usage: signed_certs.py FOLDER CA.pem   -> JSON list of {"file", "thumbprint"}
       signed_certs.py --serve          -> reads "FOLDER<TAB>CA.pem" lines, answers each with one JSON line
                                           (the crash tests ask hundreds of times; one start of Python)
"""
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, pkcs12


def signed_certs(folder, ca_path):
    with open(ca_path, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    ca_der = ca.public_bytes(Encoding.DER)
    ca_key = ca.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    password = os.environb.get(b"PFX_PW")
    found = []
    for root, _, names in os.walk(folder):
        for name in sorted(names):
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for cert in certificates_in(data, password):
                der = cert.public_bytes(Encoding.DER)
                if der == ca_der:
                    continue
                own = cert.subject == ca.subject and cert.issuer == ca.subject and cert.public_key().public_bytes(
                    Encoding.DER, PublicFormat.SubjectPublicKeyInfo
                ) == ca_key
                if own:
                    continue
                try:
                    cert.verify_directly_issued_by(ca)
                except Exception:
                    continue
                found.append(
                    {"file": os.path.relpath(path, folder), "thumbprint": hashlib.sha1(der).hexdigest().upper()}
                )
    return found


def certificates_in(data, password):
    certs = []
    try:
        certs.append(x509.load_der_x509_certificate(data))
    except ValueError:
        pass
    try:
        certs.extend(x509.load_pem_x509_certificates(data))
    except ValueError:
        pass
    if password:
        try:
            _, cert, extra = pkcs12.load_key_and_certificates(data, password)
            certs.extend([cert] if cert else [])
            certs.extend(extra)
        except (ValueError, TypeError):
            pass
    return certs


if sys.argv[1:] == ["--serve"]:
    for line in sys.stdin:
        folder, ca_path = line.rstrip("\n").split("\t")
        print(json.dumps(signed_certs(folder, ca_path)), flush=True)
else:
    print(json.dumps(signed_certs(sys.argv[1], sys.argv[2])))
