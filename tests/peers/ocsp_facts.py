"""Reads OCSP responses with Python `cryptography` (`x509.ocsp`), independently of certkit: for each response,
its status, and for each SingleResponse the certificate status, revocation time and reason, thisUpdate and
nextUpdate, the CertID's hash algorithm and serial; the responder key hash compared with the CA key's SHA-1;
whether the CA certificate's key verifies the signature. A window file (several responses one after the other)
is split by reading each DER length.

usage: ocsp_facts.py CA_CERT RESPONSE_FILE...   prints one JSON object per response, one per line
"""
import hashlib
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp


def load_cert(path):
    data = open(path, "rb").read()
    if data.startswith(b"-----"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def split_der(data):
    """The top-level DER values in `data`, one after the other."""
    out = []
    at = 0
    while at < len(data):
        assert data[at] == 0x30, "not a SEQUENCE at %d" % at
        first = data[at + 1]
        if first < 0x80:
            length, head = first, 2
        else:
            n = first & 0x7F
            length = int.from_bytes(data[at + 2 : at + 2 + n], "big")
            head = 2 + n
        out.append(data[at : at + head + length])
        at += head + length
    return out


def verified(ca, response):
    key = ca.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(
                response.signature,
                response.tbs_response_bytes,
                padding.PKCS1v15(),
                response.signature_hash_algorithm,
            )
        else:
            key.verify(
                response.signature,
                response.tbs_response_bytes,
                ec.ECDSA(response.signature_hash_algorithm),
            )
        return True
    except Exception:
        return False


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


ca = load_cert(sys.argv[1])
public = ca.public_key()
# The subjectPublicKey BIT STRING's bits: what the CertID's and the responder ID's key hashes are over.
if isinstance(public, ec.EllipticCurvePublicKey):
    key_bits = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
else:
    key_bits = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
key_hashes = {"sha1": hashlib.sha1(key_bits).digest(), "sha256": hashlib.sha256(key_bits).digest()}

for path in sys.argv[2:]:
    for der in split_der(open(path, "rb").read()):
        response = ocsp.load_der_ocsp_response(der)
        fact = {"file": path, "response_status": response.response_status.name}
        if response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL:
            fact["responder_key_hash_is_ca_key"] = response.responder_key_hash == key_hashes["sha1"]
            fact["responder_name"] = (
                response.responder_name.rfc4514_string() if response.responder_name else None
            )
            fact["produced_at"] = iso(response.produced_at_utc)
            fact["signature_hash"] = response.signature_hash_algorithm.name
            fact["signature_verified"] = verified(ca, response)
            fact["certificates"] = len(response.certificates)
            fact["singles"] = [
                {
                    "serial": format(single.serial_number, "X"),
                    "hash": single.hash_algorithm.name,
                    "status": single.certificate_status.name,
                    "revoked_at": iso(single.revocation_time_utc),
                    "reason": single.revocation_reason.name if single.revocation_reason else None,
                    "this_update": iso(single.this_update_utc),
                    "next_update": iso(single.next_update_utc),
                    "issuer_key_hash_ok": single.issuer_key_hash
                    == key_hashes[single.hash_algorithm.name],
                }
                for single in response.responses
            ]
        print(json.dumps(fact))
