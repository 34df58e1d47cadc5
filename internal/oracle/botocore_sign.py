"""Signs a batch of requests with botocore's CloudFrontSigner, an
independent implementation that cfissuer's tests cross-check against.

stdin: a JSON array of requests (see internal/oracle/oracle.go);
stdout: a JSON array of results. botocore signs RSA-SHA1 URLs only: other
requests get an "unsupported" error.
"""
import datetime
import json
import sys

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_keys = {}


def _signer(key_file):
    if key_file not in _keys:
        with open(key_file, "rb") as f:
            _keys[key_file] = serialization.load_pem_private_key(f.read(), password=None)
    key = _keys[key_file]

    def rsa_signer(message):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())

    return key, rsa_signer


def _when(epoch):
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)


def sign(r):
    if r.get("cookies"):
        return {"error": "unsupported: botocore does not sign cookies"}
    if r.get("hash", "SHA1") != "SHA1":
        return {"error": "unsupported: botocore signs SHA1 only"}
    key, rsa_signer = _signer(r["key_file"])
    if not isinstance(key, rsa.RSAPrivateKey):
        return {"error": "unsupported: botocore signs with RSA keys only"}
    cf = CloudFrontSigner(r["key_id"], rsa_signer)
    if r.get("resource") or r.get("not_before") or r.get("ip"):
        policy = cf.build_policy(
            r.get("resource") or r["url"],
            _when(r["expires"]),
            date_greater_than=_when(r["not_before"]) if r.get("not_before") else None,
            ip_address=r.get("ip") or None,
        )
        return {"url": cf.generate_presigned_url(r["url"], policy=policy), "policy": policy}
    return {"url": cf.generate_presigned_url(r["url"], date_less_than=_when(r["expires"]))}


def main():
    out = []
    for r in json.load(sys.stdin):
        try:
            out.append(sign(r))
        except Exception as e:  # reported per request, like the JS oracle
            out.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
