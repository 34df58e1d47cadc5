"""Self-test of moto_lambda_ext: a function's LoggingConfig survives create, get and update, through botocore,
against the patched server on 127.0.0.1 (no docker: moto stores the package without running it).
Run: python3 -m unittest discover -s internal/tftest/moto -p 'test_*.py'
"""

import io
import json
import logging
import unittest
import zipfile

import botocore.session

import moto_lambda_ext  # noqa: F401  (patches moto on import)
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

ROLE = "arn:aws:iam::123456789012:role/issuer"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\nexit 0\n")
    return buf.getvalue()


class LambdaExtensionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        cls.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        cls.server.start()
        host, port = cls.server.get_host_and_port()
        session = botocore.session.get_session()
        cls.iam, cls.awslambda = (session.create_client(
            svc, region_name="us-east-1", endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=botocore.config.Config(retries={"max_attempts": 1}),
        ) for svc in ("iam", "lambda"))
        # moto, like Lambda, refuses a function whose role does not exist.
        cls.iam.create_role(RoleName="issuer", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()

    def create(self, name: str, **kw: object) -> dict:
        return self.awslambda.create_function(
            FunctionName=name, Role=ROLE, Runtime="provided.al2023", Handler="bootstrap",
            Architectures=["arm64"], Code={"ZipFile": _zip()}, **kw)

    def logging_config(self, name: str) -> dict:
        return self.awslambda.get_function(FunctionName=name)["Configuration"]["LoggingConfig"]

    def test_logging_config_is_stored_and_read_back(self) -> None:
        given = {"LogFormat": "Text", "LogGroup": "/custom/issuer"}
        self.assertEqual(self.create("with-logging", LoggingConfig=given)["LoggingConfig"], given)
        self.assertEqual(self.logging_config("with-logging"), given)
        self.assertEqual(
            self.awslambda.get_function_configuration(FunctionName="with-logging")["LoggingConfig"], given)

    def test_default_logging_config(self) -> None:
        self.create("without-logging")
        self.assertEqual(self.logging_config("without-logging"),
                         {"LogFormat": "Text", "LogGroup": "/aws/lambda/without-logging"})

    def test_update_merges_and_drops_levels_of_text_logs(self) -> None:
        self.create("updated", LoggingConfig={"LogFormat": "Text", "LogGroup": "/aws/lambda/updated"})
        self.awslambda.update_function_configuration(
            FunctionName="updated", LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "INFO"})
        self.assertEqual(self.logging_config("updated"), {
            "LogFormat": "JSON", "ApplicationLogLevel": "INFO", "LogGroup": "/aws/lambda/updated"})
        self.awslambda.update_function_configuration(FunctionName="updated", LoggingConfig={"LogFormat": "Text"})
        self.assertEqual(self.logging_config("updated"), {"LogFormat": "Text", "LogGroup": "/aws/lambda/updated"})
        # An update without LoggingConfig leaves it alone.
        self.awslambda.update_function_configuration(FunctionName="updated", MemorySize=256)
        self.assertEqual(self.logging_config("updated"), {"LogFormat": "Text", "LogGroup": "/aws/lambda/updated"})


if __name__ == "__main__":
    unittest.main()
