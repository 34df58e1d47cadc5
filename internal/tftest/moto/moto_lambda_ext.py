"""moto_cf_ext + the one Lambda field terraform/modules/issuer needs read back.

moto 5.2.1 drops a function's LoggingConfig: CreateFunction and UpdateFunctionConfiguration ignore it and
GetFunction returns none, so after `terraform apply` of a function with a logging_config block every
`terraform plan` wants to add it again. Lambda stores it and, when a function is created without one, reports
the default (LogFormat Text, LogGroup /aws/lambda/NAME). This module patches that in-process on import
(test_moto_lambda_ext.py is its self-test) and otherwise serves exactly what moto_cf_ext serves:

    python3 moto_lambda_ext.py

prints "listening on 127.0.0.1:PORT" as its first line and exits when its standard input closes.
"""

from typing import Any

from moto.awslambda.models import LambdaFunction

import moto_cf_ext  # the CloudFront patches (on import) and serve()

_LOGGING_FIELDS = ("LogFormat", "ApplicationLogLevel", "SystemLogLevel", "LogGroup")


def _logging_config(name: str, current: dict[str, Any] | None, given: dict[str, Any] | None) -> dict[str, Any]:
    cfg = dict(current or {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"})
    cfg.update({k: v for k, v in (given or {}).items() if k in _LOGGING_FIELDS})
    if cfg.get("LogFormat") != "JSON":  # log levels exist only for JSON logs
        cfg.pop("ApplicationLogLevel", None)
        cfg.pop("SystemLogLevel", None)
    return cfg


_orig_init = LambdaFunction.__init__
_orig_get_configuration = LambdaFunction.get_configuration
_orig_update_configuration = LambdaFunction.update_configuration


def _init(self: LambdaFunction, account_id: str, spec: dict[str, Any], region: str, version: Any = 1) -> None:
    _orig_init(self, account_id, spec, region, version)
    self.ext_logging_config = _logging_config(self.function_name, None, spec.get("LoggingConfig"))  # type: ignore[attr-defined]


def _get_configuration(self: LambdaFunction, on_create: bool = False) -> dict[str, Any]:
    config = _orig_get_configuration(self, on_create)
    config["LoggingConfig"] = dict(self.ext_logging_config)  # type: ignore[attr-defined]
    return config


def _update_configuration(self: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
    if "LoggingConfig" in config_updates:
        self.ext_logging_config = _logging_config(  # type: ignore[attr-defined]
            self.function_name, self.ext_logging_config, config_updates["LoggingConfig"])  # type: ignore[attr-defined]
    return _orig_update_configuration(self, config_updates)


LambdaFunction.__init__ = _init  # type: ignore[method-assign]
LambdaFunction.get_configuration = _get_configuration  # type: ignore[method-assign]
LambdaFunction.update_configuration = _update_configuration  # type: ignore[method-assign]

if __name__ == "__main__":
    moto_cf_ext.serve()
