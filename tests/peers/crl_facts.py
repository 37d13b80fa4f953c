"""Reads CRLs with Python `cryptography`, independently of certkit: for each file, whether the CA certificate's
key signed it, its issuer matches the CA's subject, its CRL number, its window and the serials it lists; or
forges one (`forge`): a CRL with the CA's issuer name signed by a fresh key, numbered high and listing nothing.

usage: crl_facts.py CA_CERT CRL...            prints one JSON object per CRL, one per line
       crl_facts.py forge CA_CERT NUMBER OUT  writes the forged CRL (DER)
       crl_facts.py sign CA_CERT KEY OUT      writes an empty CRL (PEM) that KEY (PEM, unencrypted) signs as the CA
"""
import datetime
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def load_cert(path):
    data = open(path, "rb").read()
    if data.startswith(b"-----"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def load_crl(path):
    data = open(path, "rb").read()
    if data.startswith(b"-----"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


if sys.argv[1] == "forge":
    ca = load_cert(sys.argv[2])
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now - datetime.timedelta(hours=1))
        .next_update(now + datetime.timedelta(days=3650))
        .add_extension(x509.CRLNumber(int(sys.argv[3])), critical=False)
        .sign(key, hashes.SHA256())
    )
    open(sys.argv[4], "wb").write(crl.public_bytes(serialization.Encoding.DER))
    sys.exit(0)

if sys.argv[1] == "sign":
    ca = load_cert(sys.argv[2])
    key = serialization.load_pem_private_key(open(sys.argv[3], "rb").read(), None)
    now = datetime.datetime.now(datetime.timezone.utc)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now - datetime.timedelta(minutes=5))
        .next_update(now + datetime.timedelta(days=30))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    open(sys.argv[4], "wb").write(crl.public_bytes(serialization.Encoding.PEM))
    sys.exit(0)

ca = load_cert(sys.argv[1])
for path in sys.argv[2:]:
    crl = load_crl(path)
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    print(
        json.dumps(
            {
                "file": path,
                "signed": crl.is_signature_valid(ca.public_key()),
                "issuer_is_ca": crl.issuer == ca.subject,
                "number": number,
                "this_update": int(crl.last_update_utc.timestamp()),
                "next_update": int(crl.next_update_utc.timestamp()),
                "revoked": sorted(format(r.serial_number, "X") for r in crl),
            }
        )
    )
