"""Verifies a batch of CloudFront signatures with the Python `cryptography`
package (independent of cfissuer's Go code).

stdin: {"public_key": PEM path, "items": [{"data": b64, "sig": b64, "hash": "SHA1"|"SHA256"}]}
stdout: a JSON array of booleans.
"""
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def main():
    req = json.load(sys.stdin)
    with open(req["public_key"], "rb") as f:
        pub = serialization.load_pem_public_key(f.read())
    out = []
    for it in req["items"]:
        h = hashes.SHA256() if it["hash"] == "SHA256" else hashes.SHA1()
        data, sig = base64.b64decode(it["data"]), base64.b64decode(it["sig"])
        try:
            if isinstance(pub, rsa.RSAPublicKey):
                pub.verify(sig, data, padding.PKCS1v15(), h)
            elif isinstance(pub, ec.EllipticCurvePublicKey):
                pub.verify(sig, data, ec.ECDSA(h))
            else:
                raise InvalidSignature()
            out.append(True)
        except InvalidSignature:
            out.append(False)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
