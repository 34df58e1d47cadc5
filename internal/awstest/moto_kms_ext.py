"""moto_server with KMS Sign honouring MessageType=DIGEST.

moto 5.2.1's KMS Sign ignores MessageType: given a 32-byte SHA-256 digest
and MessageType=DIGEST it hashes the digest again and signs that, so the
signature verifies over sha256(digest), never over the message. Real KMS
signs the digest as given (and that is what keys.KMS sends, because KMS caps
raw messages at 4 KB). This module patches KmsBackend.sign in-process so
that DIGEST signs the digest as a prehashed value (and refuses a digest of
the wrong length, as KMS does), checks the patch with a self-test against
its own server, then serves until stdin closes:

    python3 moto_kms_ext.py        # prints "listening on HOST:PORT"

Verify with MessageType=DIGEST is not patched: cfissuer never calls it.
The pattern (patch in-process, ThreadedMotoServer on port 0, stop when the
test closes stdin) follows internal/tftest/moto/moto_cf_ext.py.
"""

import base64
import hashlib
import json
import os
import sys
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from moto.kms import models, responses, utils
from moto.kms.exceptions import ValidationException

_HASHES = {"256": (hashes.SHA256, 32), "384": (hashes.SHA384, 48), "512": (hashes.SHA512, 64)}


def _hash_of(alg: str) -> tuple[Any, int]:
    return _HASHES[alg.rsplit("_", 1)[1]]


def _sign_digest(pk: Any, digest: bytes, alg: str) -> bytes:
    h, size = _hash_of(alg)
    if len(digest) != size:
        raise ValidationException(f"Digest is invalid length for algorithm {alg}.")
    pre = Prehashed(h())
    if isinstance(pk, utils.RSAPrivateKey):
        if alg.startswith("RSASSA_PSS"):
            pad = padding.PSS(mgf=padding.MGF1(h()), salt_length=padding.PSS.DIGEST_LENGTH)
        else:
            pad = padding.PKCS1v15()
        return pk.private_key.sign(digest, pad, pre)
    if isinstance(pk, utils.ECDSAPrivateKey):
        return pk.private_key.sign(digest, ec.ECDSA(pre))
    raise ValidationException(f"MessageType DIGEST is not supported for this key ({type(pk).__name__}).")


_orig_backend_sign = models.KmsBackend.sign


def _backend_sign(self: Any, key_id: str, message: bytes, signing_algorithm: str,
                  message_type: str = "RAW") -> tuple[str, bytes, str]:
    if message_type != "DIGEST":
        return _orig_backend_sign(self, key_id, message, signing_algorithm)
    key = self.describe_key(key_id)
    # The same checks as moto's own sign (name-mangled private methods).
    self._KmsBackend__ensure_valid_sign_and_verify_key(key)
    self._KmsBackend__ensure_valid_signing_algorithm(key, signing_algorithm)
    return key.arn, _sign_digest(key.private_key, message, signing_algorithm), signing_algorithm


# MOTO_KMS_EXT_UNPATCHED=1 leaves moto as it is, so a test can check that
# the self-test below really catches the double hashing.
_PATCH = os.environ.get("MOTO_KMS_EXT_UNPATCHED") != "1"
if _PATCH:
    models.KmsBackend.sign = _backend_sign  # type: ignore[method-assign]

_orig_response_sign = responses.KmsResponse.sign


def _response_sign(self: Any) -> str:
    message_type = self._get_param("MessageType") or "RAW"
    if message_type not in ("RAW", "DIGEST"):
        raise ValidationException(
            f"1 validation error detected: Value '{message_type}' at 'messageType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [DIGEST, RAW]")
    if message_type == "RAW":
        return _orig_response_sign(self)
    key_id = self._get_param("KeyId")
    message = self._get_param("Message")
    signing_algorithm = self._get_param("SigningAlgorithm")
    self._validate_key_id(key_id)
    if isinstance(message, str):
        message = message.encode("utf-8")
    arn, sig, alg = self.kms_backend.sign(key_id=key_id, message=message,
                                          signing_algorithm=signing_algorithm, message_type="DIGEST")
    return json.dumps({"KeyId": arn, "Signature": base64.b64encode(sig).decode(), "SigningAlgorithm": alg})


if _PATCH:
    responses.KmsResponse.sign = _response_sign  # type: ignore[method-assign]


def self_test(endpoint: str) -> None:
    """Sign a digest through the running server and verify it over the message.

    Fails (exit 1) if the patch did not take, so a moto upgrade that moves
    these functions cannot silently bring the double hashing back.
    """
    import boto3
    from cryptography.hazmat.primitives import serialization

    c = boto3.client("kms", region_name="eu-west-3", endpoint_url=endpoint,
                     aws_access_key_id="selftest", aws_secret_access_key="selftest")
    msg = b'{"Statement":[{"Resource":"self-test"}]}'
    digest = hashlib.sha256(msg).digest()
    for spec, alg in (("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"), ("ECC_NIST_P256", "ECDSA_SHA_256")):
        kid = c.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY", Description="moto_kms_ext self-test")["KeyMetadata"]["KeyId"]
        pub = serialization.load_der_public_key(c.get_public_key(KeyId=kid)["PublicKey"])
        sig = c.sign(KeyId=kid, Message=digest, MessageType="DIGEST", SigningAlgorithm=alg)["Signature"]
        if spec.startswith("RSA"):
            pub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
        else:
            pub.verify(sig, msg, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr, call-arg]
        try:
            c.sign(KeyId=kid, Message=digest[:31], MessageType="DIGEST", SigningAlgorithm=alg)
        except c.exceptions.ClientError:
            pass
        else:
            raise AssertionError(f"{spec}: a 31-byte digest was signed")
        c.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)


def serve() -> None:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        self_test(f"http://{host}:{port}")
    except Exception as e:  # noqa: BLE001 - report any failure and refuse to serve
        print(f"moto_kms_ext self-test failed: {type(e).__name__}: {e}", flush=True)
        server.stop()
        sys.exit(1)
    print(f"listening on {host}:{port}", flush=True)
    sys.stdin.read()  # until the test closes the pipe or exits
    server.stop()


if __name__ == "__main__":
    serve()
