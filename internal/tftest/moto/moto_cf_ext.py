"""moto_server + the CloudFront pieces terraform-provider-aws 5.x needs.

moto 5.2.1 lacks: cache policies, response headers policies, UpdatePublicKey,
Update/DeleteKeyGroup, and drops a few distribution fields (origin
OriginAccessControlId, comments) which makes a second `terraform plan`
non-empty. Its DeletePublicKey also deletes a key that a key group still
holds, where CloudFront refuses with PublicKeyInUse, so a wrong rotation order
would pass. This module patches those in-process (adapted from
shared/reference/moto_cf_ext.py; test_moto_cf_ext.py is its self-test).

    python3 moto_cf_ext.py

serves moto on 127.0.0.1 on a free port, prints "listening on 127.0.0.1:PORT"
as its first line, and exits when its standard input closes, so a test that
dies never leaves a server behind.
"""

import sys
import uuid
from typing import Any

from moto.cloudfront import models, urls
from moto.cloudfront.models import CloudFrontBackend, random_id
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow

BASE = "https://cloudfront.amazonaws.com/2020-05-31"


class CFError(ServiceException):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


# moto finds an error's HTTP status in the service model named by the exception's module ("moto.<service>...");
# imported as "moto_cf_ext" the lookup would crash into a 500, so claim CloudFront's.
CFError.__module__ = "moto.cloudfront.exceptions"


# --------------------------------------------------------------------- routes
_D = CloudFrontResponse.dispatch
for _kind in ("cache-policy", "response-headers-policy"):
    urls.url_paths["{0}/2020-05-31/%s$" % _kind] = _D
    urls.url_paths["{0}/2020-05-31/%s/(?P<Id>[^/]+)$" % _kind] = _D
    urls.url_paths["{0}/2020-05-31/%s/(?P<Id>[^/]+)/config$" % _kind] = _D
urls.url_paths["{0}/2020-05-31/public-key/(?P<Id>[^/]+)/config$"] = _D
urls.url_paths["{0}/2020-05-31/key-group/(?P<Id>[^/]+)/config$"] = _D

# ------------------------------------------------------------- backend state
_orig_backend_init = CloudFrontBackend.__init__


def _backend_init(self: CloudFrontBackend, *a: Any, **kw: Any) -> None:
    _orig_backend_init(self, *a, **kw)
    self.ext_policies = {"cache": {}, "rhp": {}}  # type: ignore[attr-defined]
    self.ext_functions = {}  # type: ignore[attr-defined]  # name -> {"DEVELOPMENT": rec, "LIVE": rec or None}
    self.ext_stores = {}  # type: ignore[attr-defined]  # name -> rec


CloudFrontBackend.__init__ = _backend_init  # type: ignore[method-assign]

# (label, xml config member, xml object member, list member, not-found code, already-exists code)
_KINDS = {
    "cache": ("cache-policy", "CachePolicyConfig", "CachePolicy", "CachePolicyList",
              "NoSuchCachePolicy", "CachePolicyAlreadyExists"),
    "rhp": ("response-headers-policy", "ResponseHeadersPolicyConfig", "ResponseHeadersPolicy",
            "ResponseHeadersPolicyList", "NoSuchResponseHeadersPolicy",
            "ResponseHeadersPolicyAlreadyExists"),
}


def _store(resp: CloudFrontResponse, kind: str) -> dict[str, Any]:
    return resp.backend.ext_policies[kind]  # type: ignore[attr-defined]


def _get(resp: CloudFrontResponse, kind: str) -> dict[str, Any]:
    pid = resp._get_param("Id")
    rec = _store(resp, kind).get(pid)
    if rec is None:
        raise CFError(_KINDS[kind][4], f"The {_KINDS[kind][0]} {pid} does not exist.")
    return rec


def _obj(rec: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"Id": rec["Id"], "LastModifiedTime": rec["LastModifiedTime"], _KINDS[kind][1]: rec["config"]}


def _make_handlers(kind: str) -> None:
    label, cfg_key, obj_key, list_key, _, exists_code = _KINDS[kind]
    snake = obj_key[0].lower() + "".join("_" + c.lower() if c.isupper() else c for c in obj_key[1:])

    def create(self: CloudFrontResponse) -> ActionResult:
        cfg = self._get_param(cfg_key)
        store = _store(self, kind)
        if any(r["config"].get("Name") == cfg.get("Name") for r in store.values()):
            raise CFError(exists_code, f"A {label} with this name already exists.")
        pid = str(uuid.uuid4())
        rec = {"Id": pid, "LastModifiedTime": utcnow(), "config": cfg, "etag": random_id()}
        store[pid] = rec
        return ActionResult({obj_key: _obj(rec, kind), "Location": f"{BASE}/{label}/{pid}", "ETag": rec["etag"]})

    def get(self: CloudFrontResponse) -> ActionResult:
        rec = _get(self, kind)
        return ActionResult({obj_key: _obj(rec, kind), "ETag": rec["etag"]})

    def get_config(self: CloudFrontResponse) -> ActionResult:
        rec = _get(self, kind)
        return ActionResult({cfg_key: rec["config"], "ETag": rec["etag"]})

    def update(self: CloudFrontResponse) -> ActionResult:
        rec = _get(self, kind)
        if self._get_param("IfMatch") != rec["etag"]:
            raise CFError("PreconditionFailed", "The If-Match version is missing or not valid.")
        rec.update(config=self._get_param(cfg_key), LastModifiedTime=utcnow(), etag=random_id())
        return ActionResult({obj_key: _obj(rec, kind), "ETag": rec["etag"]})

    def delete(self: CloudFrontResponse) -> EmptyResult:
        rec = _get(self, kind)
        for dist in self.backend.distributions.values():
            cfg = dist.distribution_config
            behaviours = [cfg.DefaultCacheBehavior] + list(getattr(cfg, "CacheBehaviors", {}).get("Items") or [])
            attr = "cache_policy_id" if kind == "cache" else "response_headers_policy_id"
            if any(getattr(b, attr, None) == rec["Id"] for b in behaviours):
                raise CFError(label.title().replace("-", "") + "InUse", f"The {label} is in use.")
        del _store(self, kind)[rec["Id"]]
        return EmptyResult()

    def list_(self: CloudFrontResponse) -> ActionResult:
        items = [{"Type": "custom", obj_key: _obj(r, kind)} for r in _store(self, kind).values()]
        if self._get_param("Type") == "managed":
            items = []
        return ActionResult({list_key: {"MaxItems": 100, "Quantity": len(items), "Items": items or None}})

    setattr(CloudFrontResponse, f"create_{snake}", create)
    setattr(CloudFrontResponse, f"get_{snake}", get)
    setattr(CloudFrontResponse, f"get_{snake}_config", get_config)
    setattr(CloudFrontResponse, f"update_{snake}", update)
    setattr(CloudFrontResponse, f"delete_{snake}", delete)
    # "list_cache_policies" / "list_response_headers_policies"
    setattr(CloudFrontResponse, "list_" + snake[:-1] + "ies", list_)


_make_handlers("cache")
_make_handlers("rhp")

# ------------------------------------------------ public keys and key groups
_orig_create_public_key = CloudFrontResponse.create_public_key


def create_public_key(self: CloudFrontResponse) -> ActionResult:
    result = _orig_create_public_key(self)
    result.result["PublicKey"].comment = self._get_param("PublicKeyConfig").get("Comment", "")  # type: ignore[index]
    return result


def _public_key(self: CloudFrontResponse) -> Any:
    key = self.backend.public_keys.get(self._get_param("Id"))
    if key is None:
        raise CFError("NoSuchPublicKey", "The specified public key does not exist.")
    return key


def get_public_key(self: CloudFrontResponse) -> ActionResult:
    key = _public_key(self)
    return ActionResult({"PublicKey": key, "ETag": key.etag})


def get_public_key_config(self: CloudFrontResponse) -> ActionResult:
    key = _public_key(self)
    return ActionResult({"PublicKeyConfig": key.public_key_config, "ETag": key.etag})


def update_public_key(self: CloudFrontResponse) -> ActionResult:
    key = _public_key(self)
    cfg = self._get_param("PublicKeyConfig")
    if cfg.get("EncodedKey", "").strip() != key.encoded_key.strip():
        raise CFError("CannotChangeImmutablePublicKeyFields", "EncodedKey cannot be changed.")
    key.comment = cfg.get("Comment", "")
    key.etag = random_id(length=14)
    return ActionResult({"PublicKey": key, "ETag": key.etag})


models.KeyGroup.key_group_config = property(  # type: ignore[method-assign,assignment]
    lambda self: {"Items": self.items, "Name": self.name, "Comment": getattr(self, "comment", None)}
)
models.KeyGroup.last_modified_time = property(lambda self: getattr(self, "_lmt", None) or utcnow())  # type: ignore[attr-defined]

_orig_create_key_group = CloudFrontResponse.create_key_group


def create_key_group(self: CloudFrontResponse) -> ActionResult:
    result = _orig_create_key_group(self)
    result.result["KeyGroup"].comment = self._get_param("KeyGroupConfig.Comment")  # type: ignore[index]
    return result


def _key_group(self: CloudFrontResponse) -> Any:
    group = self.backend.key_groups.get(self._get_param("Id"))
    if group is None:
        raise CFError("NoSuchResource", "The specified key group does not exist.")
    return group


def get_key_group(self: CloudFrontResponse) -> ActionResult:
    group = _key_group(self)
    return ActionResult({"KeyGroup": group, "ETag": group.etag})


def get_key_group_config(self: CloudFrontResponse) -> ActionResult:
    group = _key_group(self)
    return ActionResult({"KeyGroupConfig": group.key_group_config, "ETag": group.etag})


def update_key_group(self: CloudFrontResponse) -> ActionResult:
    group = _key_group(self)
    group.name = self._get_param("KeyGroupConfig.Name")
    group.items = self._get_param("KeyGroupConfig.Items", [])
    group.comment = self._get_param("KeyGroupConfig.Comment")
    group.etag = random_id(length=14)
    return ActionResult({"KeyGroup": group, "ETag": group.etag})


def delete_key_group(self: CloudFrontResponse) -> EmptyResult:
    group = _key_group(self)
    for dist in self.backend.distributions.values():
        cfg = dist.distribution_config
        behaviours = [cfg.DefaultCacheBehavior] + list(getattr(cfg, "CacheBehaviors", {}).get("Items") or [])
        if any(group.id in (b.trusted_key_groups.items or []) for b in behaviours):
            raise CFError("ResourceInUse", "The key group is in use by a distribution.")
    del self.backend.key_groups[group.id]
    return EmptyResult()


def delete_public_key(self: CloudFrontResponse) -> EmptyResult:
    key = _public_key(self)
    if self._get_param("IfMatch") not in (None, key.etag):
        raise CFError("PreconditionFailed", "The If-Match version is missing or not valid.")
    for group in self.backend.key_groups.values():
        if key.id in (group.items or []):
            raise CFError("PublicKeyInUse", f"The public key {key.id} is in key group {group.id}.")
    del self.backend.public_keys[key.id]
    return EmptyResult()


for _fn in (create_public_key, get_public_key, get_public_key_config, update_public_key, delete_public_key,
            create_key_group, get_key_group, get_key_group_config, update_key_group, delete_key_group):
    setattr(CloudFrontResponse, _fn.__name__, _fn)

# ------------------------------------------------------ distribution fidelity
_orig_origin_init = models.Origin.__init__


def _origin_init(self: Any, origin: dict[str, Any]) -> None:
    _orig_origin_init(self, origin)
    self.origin_access_control_id = origin.get("OriginAccessControlId") or ""


models.Origin.__init__ = _origin_init  # type: ignore[method-assign]

_orig_dcb_init = models.DefaultCacheBehaviour.__init__


def _dcb_init(self: Any, config: dict[str, Any]) -> None:
    has_fv = "ForwardedValues" in config
    _orig_dcb_init(self, config)
    if config.get("CachePolicyId") and not has_fv:
        # AWS omits legacy ForwardedValues/TTLs when a cache policy is attached.
        self.forwarded_values = None
    # moto drops a behavior's CloudFront Function associations.
    fa = config.get("FunctionAssociations") or {}
    if fa.get("Items"):
        self.function_associations = {"Quantity": len(fa["Items"]), "Items": fa["Items"]}


models.DefaultCacheBehaviour.__init__ = _dcb_init  # type: ignore[method-assign]

_orig_vc_init = models.ViewerCertificate.__init__


def _vc_init(self: Any, config: dict[str, Any]) -> None:
    _orig_vc_init(self, config)
    if config.get("ACMCertificateArn") or config.get("IAMCertificateId"):
        # Added here: moto defaults CloudFrontDefaultCertificate to true even
        # with an ACM certificate (aliases), which CloudFront reports as false.
        if "CloudFrontDefaultCertificate" not in config:
            self.cloud_front_default_certificate = False
        self.certificate_source = "acm" if config.get("ACMCertificateArn") else "iam"
    elif self.cloud_front_default_certificate and not config.get("SSLSupportMethod"):
        self.ssl_support_method = None


models.ViewerCertificate.__init__ = _vc_init  # type: ignore[method-assign]

# ------------------------------------------ CloudFront Functions and KeyValueStores (terraform/functions)
# What aws_cloudfront_function, aws_cloudfront_key_value_store and a behavior's function_association call:
# functions with a DEVELOPMENT and a LIVE stage (PublishFunction copies one to the other), stores that are READY at
# once, ETag checks on update, publish and delete, and FunctionInUse / EntityInUse while something refers to them.
urls.url_paths["{0}/2020-05-31/function$"] = _D
urls.url_paths["{0}/2020-05-31/function/(?P<Name>[^/]+)$"] = _D
urls.url_paths["{0}/2020-05-31/function/(?P<Name>[^/]+)/describe$"] = _D
urls.url_paths["{0}/2020-05-31/function/(?P<Name>[^/]+)/publish$"] = _D
urls.url_paths["{0}/2020-05-31/key-value-store/?$"] = _D
urls.url_paths["{0}/2020-05-31/key-value-store/(?P<Name>[^/]+)$"] = _D



def _func(self: CloudFrontResponse, stage: str = "DEVELOPMENT") -> dict[str, Any]:
    name = self._get_param("Name")
    rec = self.backend.ext_functions.get(name, {}).get(stage)
    if rec is None:
        raise CFError("NoSuchFunctionExists", f"The function {name} does not exist ({stage}).")
    return rec


def _summary(rec: dict[str, Any]) -> dict[str, Any]:
    return {"Name": rec["Name"], "Status": "UNPUBLISHED" if rec["Stage"] == "DEVELOPMENT" else "DEPLOYED",
            "FunctionConfig": rec["FunctionConfig"],
            "FunctionMetadata": {"FunctionARN": rec["ARN"], "Stage": rec["Stage"], "CreatedTime": rec["CreatedTime"],
                                 "LastModifiedTime": rec["LastModifiedTime"]}}


def _check_if_match(self: CloudFrontResponse, etag: str) -> None:
    if self._get_param("IfMatch") != etag:
        raise CFError("PreconditionFailed", "The If-Match version is missing or not valid.")


def create_function(self: CloudFrontResponse) -> ActionResult:
    name = self._get_param("Name")
    if name in self.backend.ext_functions:
        raise CFError("FunctionAlreadyExists", f"A function named {name} already exists.")
    now = utcnow()
    rec = {"Name": name, "Stage": "DEVELOPMENT", "FunctionConfig": self._get_param("FunctionConfig"),
           "Code": self._get_param("FunctionCode"), "ARN": f"arn:aws:cloudfront::{self.current_account}:function/{name}",
           "CreatedTime": now, "LastModifiedTime": now, "ETag": random_id()}
    self.backend.ext_functions[name] = {"DEVELOPMENT": rec, "LIVE": None}
    return ActionResult({"FunctionSummary": _summary(rec), "Location": f"{BASE}/function/{rec['ARN']}", "ETag": rec["ETag"]})


def describe_function(self: CloudFrontResponse) -> ActionResult:
    rec = _func(self, self._get_param("Stage") or "LIVE")
    return ActionResult({"FunctionSummary": _summary(rec), "ETag": rec["ETag"]})


def get_function(self: CloudFrontResponse) -> ActionResult:
    rec = _func(self, self._get_param("Stage") or "LIVE")
    return ActionResult({"FunctionCode": rec["Code"], "ETag": rec["ETag"], "ContentType": "application/octet-stream"})


def update_function(self: CloudFrontResponse) -> ActionResult:
    rec = _func(self)
    _check_if_match(self, rec["ETag"])
    rec.update(FunctionConfig=self._get_param("FunctionConfig"), Code=self._get_param("FunctionCode"),
               LastModifiedTime=utcnow(), ETag=random_id())
    return ActionResult({"FunctionSummary": _summary(rec), "ETag": rec["ETag"]})


def publish_function(self: CloudFrontResponse) -> ActionResult:
    rec = _func(self)
    _check_if_match(self, rec["ETag"])
    live = dict(rec, Stage="LIVE", LastModifiedTime=utcnow(), ETag=random_id())
    self.backend.ext_functions[rec["Name"]]["LIVE"] = live
    return ActionResult({"FunctionSummary": _summary(live)})


def _behaviours(backend: CloudFrontBackend) -> list[Any]:
    out = []
    for dist in backend.distributions.values():
        cfg = dist.distribution_config
        out += [cfg.DefaultCacheBehavior] + list(getattr(cfg, "CacheBehaviors", {}).get("Items") or [])
    return out


def _associated(backend: CloudFrontBackend, arn: str) -> bool:
    for b in _behaviours(backend):
        fa = getattr(b, "function_associations", None) or {}
        if any(i.get("FunctionARN") == arn for i in (fa.get("Items") or [])):
            return True
    return False


def delete_function(self: CloudFrontResponse) -> EmptyResult:
    rec = _func(self)
    _check_if_match(self, rec["ETag"])
    if _associated(self.backend, rec["ARN"]):
        raise CFError("FunctionInUse", f"The function {rec['Name']} is associated with a distribution.")
    del self.backend.ext_functions[rec["Name"]]
    return EmptyResult()


def list_functions(self: CloudFrontResponse) -> ActionResult:
    items = [_summary(f["DEVELOPMENT"]) for f in self.backend.ext_functions.values()]
    return ActionResult({"FunctionList": {"MaxItems": 100, "Quantity": len(items), "Items": items or None}})


def _store_rec(self: CloudFrontResponse) -> dict[str, Any]:
    name = self._get_param("Name")
    rec = self.backend.ext_stores.get(name)
    if rec is None:
        raise CFError("EntityNotFound", f"The key value store {name} does not exist.")
    return rec


def _kvs(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: rec[k] for k in ("Name", "Id", "Comment", "ARN", "Status", "LastModifiedTime")}


def create_key_value_store(self: CloudFrontResponse) -> ActionResult:
    name = self._get_param("Name")
    if name in self.backend.ext_stores:
        raise CFError("EntityAlreadyExists", f"A key value store named {name} already exists.")
    sid = str(uuid.uuid4())
    rec = {"Name": name, "Id": sid, "Comment": self._get_param("Comment") or "", "Status": "READY",
           "ARN": f"arn:aws:cloudfront::{self.current_account}:key-value-store/{sid}", "LastModifiedTime": utcnow(),
           "ETag": random_id()}
    self.backend.ext_stores[name] = rec
    return ActionResult({"KeyValueStore": _kvs(rec), "ETag": rec["ETag"], "Location": f"{BASE}/key-value-store/{name}"})


def describe_key_value_store(self: CloudFrontResponse) -> ActionResult:
    rec = _store_rec(self)
    return ActionResult({"KeyValueStore": _kvs(rec), "ETag": rec["ETag"]})


def update_key_value_store(self: CloudFrontResponse) -> ActionResult:
    rec = _store_rec(self)
    _check_if_match(self, rec["ETag"])
    rec.update(Comment=self._get_param("Comment") or "", LastModifiedTime=utcnow(), ETag=random_id())
    return ActionResult({"KeyValueStore": _kvs(rec), "ETag": rec["ETag"]})


def delete_key_value_store(self: CloudFrontResponse) -> EmptyResult:
    rec = _store_rec(self)
    _check_if_match(self, rec["ETag"])
    for stages in self.backend.ext_functions.values():
        for f in stages.values():
            kv = ((f or {}).get("FunctionConfig") or {}).get("KeyValueStoreAssociations") or {}
            if any(i.get("KeyValueStoreARN") == rec["ARN"] for i in (kv.get("Items") or [])):
                raise CFError("CannotDeleteEntityWhileInUse", f"The key value store {rec['Name']} is associated with a function.")
    del self.backend.ext_stores[rec["Name"]]
    return EmptyResult()


def list_key_value_stores(self: CloudFrontResponse) -> ActionResult:
    items = [_kvs(r) for r in self.backend.ext_stores.values()]
    return ActionResult({"KeyValueStoreList": {"MaxItems": 100, "Quantity": len(items), "Items": items or None}})


for _fn in (create_function, describe_function, get_function, update_function, publish_function, delete_function,
            list_functions, create_key_value_store, describe_key_value_store, update_key_value_store,
            delete_key_value_store, list_key_value_stores):
    setattr(CloudFrontResponse, _fn.__name__, _fn)


def serve() -> None:
    import logging

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # errors only, not one line per request

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"listening on {host}:{port}", flush=True)
    sys.stdin.read()  # until the test closes the pipe or exits
    server.stop()


if __name__ == "__main__":
    serve()
