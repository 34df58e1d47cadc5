"""Self-test of moto_cf_ext: every CloudFront call the Terraform module makes, through botocore, against the patched
server on 127.0.0.1. Run: python3 -m unittest discover -s internal/tftest/moto -p 'test_*.py'
"""

import logging
import unittest

import botocore.session
from botocore.exceptions import ClientError

import moto_cf_ext  # noqa: F401  (patches moto on import)
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

PEM = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2ijtgSQujiN/EJ/80gen
+7RBwTju3dq2dWjXGnw6Pn1aH9/WgqxG+BXoq22EyvoBAVJJuaZS4xaXoFXpZjmm
ZJwSAzuz3ZzrvOrdnr/Fhuqsd/G9W1QlMqwyoeNLbz7tVfyb1t1WXiHxhDsy4bC1
rvuq3MuNzWw/N0UN+8vnfFVhNrsppVBQwJwfNb4qfQSwPnhbg7g1/5ksEGtDXd+C
k+8o4QZtmY7nSm9ksyfIDb0WH8+DnYQqc5GEbt6SKXpLeyzSHMDtj7QSqExjuShn
Yn/Bl/uxjOiAlGnXFQNGcwvhuM++FSN44TAxg8P/l1MFXkxaNXV7WfwpzDD6Wc7d
1QIDAQAB
-----END PUBLIC KEY-----
"""


def _cache_policy_config(name: str, ttl: int) -> dict:
    return {
        "Name": name, "MinTTL": 0, "DefaultTTL": ttl, "MaxTTL": ttl,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True,
            "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "whitelist",
                                   "QueryStrings": {"Quantity": 1, "Items": ["response-content-disposition"]}},
        },
    }


class ExtensionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        cls.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        cls.server.start()
        host, port = cls.server.get_host_and_port()
        session = botocore.session.get_session()
        cls.cf = session.create_client(
            "cloudfront", region_name="us-east-1", endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=botocore.config.Config(retries={"max_attempts": 1}),
        )

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()

    def code(self, ctx: unittest.case._AssertRaisesContext) -> str:  # type: ignore[type-arg]
        return ctx.exception.response["Error"]["Code"]

    def test_cache_policy_lifecycle(self) -> None:
        created = self.cf.create_cache_policy(CachePolicyConfig=_cache_policy_config("selftest-cp", 60))
        pid, etag = created["CachePolicy"]["Id"], created["ETag"]
        got = self.cf.get_cache_policy(Id=pid)["CachePolicy"]["CachePolicyConfig"]
        self.assertEqual(got["DefaultTTL"], 60)
        self.assertEqual(got["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"]["QueryStrings"]["Items"],
                         ["response-content-disposition"])
        with self.assertRaises(ClientError) as ctx:
            self.cf.create_cache_policy(CachePolicyConfig=_cache_policy_config("selftest-cp", 1))
        self.assertEqual(self.code(ctx), "CachePolicyAlreadyExists")
        with self.assertRaises(ClientError) as ctx:
            self.cf.update_cache_policy(Id=pid, IfMatch="stale", CachePolicyConfig=_cache_policy_config("selftest-cp", 120))
        self.assertEqual(self.code(ctx), "PreconditionFailed")
        self.cf.update_cache_policy(Id=pid, IfMatch=etag, CachePolicyConfig=_cache_policy_config("selftest-cp", 120))
        self.assertEqual(self.cf.get_cache_policy_config(Id=pid)["CachePolicyConfig"]["MaxTTL"], 120)
        ids = [i["CachePolicy"]["Id"] for i in self.cf.list_cache_policies(Type="custom")["CachePolicyList"]["Items"]]
        self.assertIn(pid, ids)
        self.cf.delete_cache_policy(Id=pid)
        with self.assertRaises(ClientError) as ctx:
            self.cf.get_cache_policy(Id=pid)
        self.assertEqual(self.code(ctx), "NoSuchCachePolicy")

    def test_response_headers_policy_lifecycle(self) -> None:
        config = {
            "Name": "selftest-rhp",
            "CustomHeadersConfig": {"Quantity": 1, "Items": [
                {"Header": "Cache-Control", "Value": "max-age=60", "Override": True}]},
            "CorsConfig": {
                "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["https://app.example.test"]},
                "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["Range"]},
                "AccessControlAllowMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
                "AccessControlAllowCredentials": True, "OriginOverride": True,
            },
        }
        created = self.cf.create_response_headers_policy(ResponseHeadersPolicyConfig=config)
        pid = created["ResponseHeadersPolicy"]["Id"]
        got = self.cf.get_response_headers_policy(Id=pid)["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]
        self.assertTrue(got["CorsConfig"]["AccessControlAllowCredentials"])
        self.assertEqual(got["CustomHeadersConfig"]["Items"][0]["Value"], "max-age=60")
        self.cf.delete_response_headers_policy(Id=pid)
        with self.assertRaises(ClientError) as ctx:
            self.cf.get_response_headers_policy(Id=pid)
        self.assertEqual(self.code(ctx), "NoSuchResponseHeadersPolicy")

    def test_public_key_in_a_group_cannot_be_deleted(self) -> None:
        old = self.cf.create_public_key(PublicKeyConfig={"CallerReference": "a", "Name": "selftest-old", "EncodedKey": PEM})
        new = self.cf.create_public_key(PublicKeyConfig={"CallerReference": "b", "Name": "selftest-new", "EncodedKey": PEM})
        old_id, new_id = old["PublicKey"]["Id"], new["PublicKey"]["Id"]
        self.assertRegex(old_id, r"^[A-Z0-9]+$")  # what the behaviors schema wants in key_ids
        group = self.cf.create_key_group(KeyGroupConfig={"Name": "selftest-group", "Items": [old_id, new_id]})
        gid, getag = group["KeyGroup"]["Id"], group["ETag"]

        with self.assertRaises(ClientError) as ctx:
            self.cf.delete_public_key(Id=old_id)
        self.assertEqual(self.code(ctx), "PublicKeyInUse")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 409)

        # Rotation in the right order: drop the key from the group, then delete it.
        self.cf.update_key_group(Id=gid, IfMatch=getag, KeyGroupConfig={"Name": "selftest-group", "Items": [new_id]})
        self.assertEqual(self.cf.get_key_group_config(Id=gid)["KeyGroupConfig"]["Items"], [new_id])
        self.cf.delete_public_key(Id=old_id)
        with self.assertRaises(ClientError) as ctx:
            self.cf.get_public_key(Id=old_id)
        self.assertEqual(self.code(ctx), "NoSuchPublicKey")

        # Public keys are immutable apart from the comment.
        etag = self.cf.get_public_key(Id=new_id)["ETag"]
        self.cf.update_public_key(Id=new_id, IfMatch=etag, PublicKeyConfig={
            "CallerReference": "b", "Name": "selftest-new", "EncodedKey": PEM, "Comment": "rotated"})
        self.assertEqual(self.cf.get_public_key_config(Id=new_id)["PublicKeyConfig"]["Comment"], "rotated")
        with self.assertRaises(ClientError) as ctx:
            self.cf.update_public_key(Id=new_id, IfMatch=etag, PublicKeyConfig={
                "CallerReference": "b", "Name": "selftest-new", "EncodedKey": PEM.replace("MIIB", "MIIC", 1)})
        self.assertEqual(self.code(ctx), "CannotChangeImmutablePublicKeyFields")

        self.cf.delete_key_group(Id=gid)
        self.cf.delete_public_key(Id=new_id)

    def test_distribution_keeps_oac_certificate_and_policies(self) -> None:
        cp = self.cf.create_cache_policy(CachePolicyConfig=_cache_policy_config("selftest-dist", 60))["CachePolicy"]["Id"]
        key = self.cf.create_public_key(PublicKeyConfig={"CallerReference": "c", "Name": "selftest-dist", "EncodedKey": PEM})
        group = self.cf.create_key_group(KeyGroupConfig={"Name": "selftest-dist", "Items": [key["PublicKey"]["Id"]]})
        gid = group["KeyGroup"]["Id"]
        oac = self.cf.create_origin_access_control(OriginAccessControlConfig={
            "Name": "selftest", "SigningProtocol": "sigv4", "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
        behavior = {
            "TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https", "CachePolicyId": cp,
            "TrustedKeyGroups": {"Enabled": True, "Quantity": 1, "Items": [gid]},
        }
        dist = self.cf.create_distribution(DistributionConfig={
            "CallerReference": "selftest", "Comment": "selftest", "Enabled": True,
            "Aliases": {"Quantity": 1, "Items": ["media.example.test"]},
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "s3", "DomainName": "bucket.s3.us-east-1.amazonaws.com", "OriginAccessControlId": oac}]},
            "DefaultCacheBehavior": behavior,
            "ViewerCertificate": {"ACMCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
                                  "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"},
        })["Distribution"]
        cfg = self.cf.get_distribution_config(Id=dist["Id"])["DistributionConfig"]
        self.assertEqual(cfg["Origins"]["Items"][0]["OriginAccessControlId"], oac)
        self.assertFalse(cfg["ViewerCertificate"]["CloudFrontDefaultCertificate"])
        self.assertEqual(cfg["ViewerCertificate"]["MinimumProtocolVersion"], "TLSv1.2_2021")
        self.assertNotIn("ForwardedValues", cfg["DefaultCacheBehavior"])

        with self.assertRaises(ClientError) as ctx:
            self.cf.delete_cache_policy(Id=cp)
        self.assertEqual(self.code(ctx), "CachePolicyInUse")
        with self.assertRaises(ClientError) as ctx:
            self.cf.delete_key_group(Id=gid)
        self.assertEqual(self.code(ctx), "ResourceInUse")

    def test_function_store_and_association(self) -> None:
        store = self.cf.create_key_value_store(Name="selftest-deny", Comment="deny list")
        kvs_arn, kvs_etag = store["KeyValueStore"]["ARN"], store["ETag"]
        self.assertEqual(self.cf.describe_key_value_store(Name="selftest-deny")["KeyValueStore"]["Status"], "READY")
        code = b"import cf from 'cloudfront';\nasync function handler(event) { return event.request; }\n"
        fconfig = {"Comment": "deny", "Runtime": "cloudfront-js-2.0",
                   "KeyValueStoreAssociations": {"Quantity": 1, "Items": [{"KeyValueStoreARN": kvs_arn}]}}
        created = self.cf.create_function(Name="selftest-deny", FunctionConfig=fconfig, FunctionCode=code)
        arn, etag = created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"], created["ETag"]
        with self.assertRaises(ClientError) as ctx:
            self.cf.describe_function(Name="selftest-deny", Stage="LIVE")
        self.assertEqual(self.code(ctx), "NoSuchFunctionExists")
        with self.assertRaises(ClientError) as ctx:
            self.cf.publish_function(Name="selftest-deny", IfMatch="stale")
        self.assertEqual(self.code(ctx), "PreconditionFailed")
        self.cf.publish_function(Name="selftest-deny", IfMatch=etag)
        live = self.cf.describe_function(Name="selftest-deny", Stage="LIVE")["FunctionSummary"]
        self.assertEqual(live["Status"], "DEPLOYED")
        self.assertEqual(live["FunctionConfig"]["KeyValueStoreAssociations"]["Items"][0]["KeyValueStoreARN"], kvs_arn)
        got = self.cf.get_function(Name="selftest-deny", Stage="DEVELOPMENT")
        self.assertEqual(got["FunctionCode"].read(), code)

        cp = self.cf.create_cache_policy(CachePolicyConfig=_cache_policy_config("selftest-fn", 60))["CachePolicy"]["Id"]
        assoc = {"Quantity": 1, "Items": [{"FunctionARN": arn, "EventType": "viewer-request"}]}
        dist = self.cf.create_distribution(DistributionConfig={
            "CallerReference": "selftest-fn", "Comment": "selftest", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "bucket.s3.us-east-1.amazonaws.com"}]},
            "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
                                     "CachePolicyId": cp, "FunctionAssociations": assoc},
        })["Distribution"]
        cfg = self.cf.get_distribution_config(Id=dist["Id"])["DistributionConfig"]
        self.assertEqual(cfg["DefaultCacheBehavior"]["FunctionAssociations"], assoc)

        etag = self.cf.describe_function(Name="selftest-deny", Stage="DEVELOPMENT")["ETag"]
        with self.assertRaises(ClientError) as ctx:
            self.cf.delete_function(Name="selftest-deny", IfMatch=etag)
        self.assertEqual(self.code(ctx), "FunctionInUse")
        with self.assertRaises(ClientError) as ctx:
            self.cf.delete_key_value_store(Name="selftest-deny", IfMatch=kvs_etag)
        self.assertEqual(self.code(ctx), "CannotDeleteEntityWhileInUse")


if __name__ == "__main__":
    unittest.main()
