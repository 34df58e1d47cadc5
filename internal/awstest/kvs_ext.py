"""A minimal CloudFront KeyValueStore API (cloudfront-keyvaluestore) for tests.

moto 5.2.1 emulates no KeyValueStore data plane, so this serves the six
operations of that API the way the AWS API Reference describes them, for the
real aws-sdk-go-v2 client (service/cloudfrontkeyvaluestore) to talk to:

  GET    /key-value-stores/{KvsARN}              DescribeKeyValueStore (ETag header)
  GET    /key-value-stores/{KvsARN}/keys         ListKeys (MaxResults, NextToken)
  POST   /key-value-stores/{KvsARN}/keys         UpdateKeys (If-Match; Puts, Deletes)
  GET    /key-value-stores/{KvsARN}/keys/{Key}   GetKey
  PUT    /key-value-stores/{KvsARN}/keys/{Key}   PutKey (If-Match)
  DELETE /key-value-stores/{KvsARN}/keys/{Key}   DeleteKey (If-Match)

Every write needs If-Match equal to the store's current ETag and changes the
ETag; a stale one gets 409 ConflictException, as CloudFront does. Limits
enforced: keys 1-512 bytes, values up to 1 KB, 5 MB per store (keys plus
values), 50 puts+deletes per UpdateKeys. Stores named in KVS_STORES
(comma-separated ARNs) exist from the start; any other ARN is
ResourceNotFoundException. Requests are not authenticated (SigV4A is the
client's business; this checks only that an Authorization header is sent).

Like moto_kms_ext.py it prints "listening on HOST:PORT" once it serves on a
port the kernel picks, and stops when stdin closes.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

MAX_KEY = 512
MAX_VALUE = 1024
MAX_STORE = 5 * 1024 * 1024
MAX_BATCH = 50


class Store:
    def __init__(self, arn: str) -> None:
        self.arn = arn
        self.items: dict[str, str] = {}
        self.etag = uuid.uuid4().hex
        self.created = datetime.now(timezone.utc).timestamp()
        self.updated = self.created

    def size(self) -> int:
        return sum(len(k.encode()) + len(v.encode()) for k, v in self.items.items())

    def meta(self) -> dict:
        return {"ItemCount": len(self.items), "TotalSizeInBytes": self.size()}


class Error(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


LOCK = threading.Lock()
STORES: dict[str, Store] = {a: Store(a) for a in os.environ.get("KVS_STORES", "").split(",") if a}


def check_key(k: str) -> None:
    if not 1 <= len(k.encode()) <= MAX_KEY:
        raise Error(400, "ValidationException", "key must be 1 to 512 bytes")


def check_value(v: str) -> None:
    if len(v.encode()) > MAX_VALUE:
        raise Error(400, "ValidationException", "value must be at most 1 KB")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def reply(self, status: int, body: dict | None, etag: str | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            if not self.headers.get("Authorization"):
                raise Error(403, "AccessDeniedException", "missing Authorization")
            u = urlsplit(self.path)
            parts = u.path.split("/")
            if len(parts) < 3 or parts[1] != "key-value-stores":
                raise Error(404, "ResourceNotFoundException", "no such path")
            arn = unquote(parts[2])
            rest = parts[3:]
            with LOCK:
                st = STORES.get(arn)
                if st is None:
                    raise Error(404, "ResourceNotFoundException", f"no key value store {arn}")
                self.dispatch(method, st, rest, parse_qs(u.query), raw)
        except Error as e:
            body = json.dumps({"Message": e.message}).encode()
            self.send_response(e.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Amzn-ErrorType", e.code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def if_match(self, st: Store) -> None:
        got = self.headers.get("If-Match")
        if not got:
            raise Error(400, "ValidationException", "If-Match is required")
        if got != st.etag:
            raise Error(409, "ConflictException", "the ETag does not match the store's")

    def changed(self, st: Store) -> None:
        if st.size() > MAX_STORE:
            raise Error(402, "ServiceQuotaExceededException", "the store would exceed 5 MB")
        st.etag = uuid.uuid4().hex
        st.updated = datetime.now(timezone.utc).timestamp()

    def dispatch(self, method: str, st: Store, rest: list[str], q: dict, raw: bytes) -> None:
        if not rest:
            if method != "GET":
                raise Error(405, "ValidationException", "method not allowed")
            body = {"KvsARN": st.arn, "Created": st.created, "LastModified": st.updated, "Status": "READY", **st.meta()}
            return self.reply(200, body, st.etag)
        if rest[0] != "keys":
            raise Error(404, "ResourceNotFoundException", "no such path")
        if len(rest) == 1:
            if method == "GET":
                keys = sorted(st.items)
                start = int(q.get("NextToken", ["0"])[0])
                n = int(q.get("MaxResults", ["50"])[0])
                page = keys[start:start + n]
                body: dict = {"Items": [{"Key": k, "Value": st.items[k]} for k in page]}
                if start + n < len(keys):
                    body["NextToken"] = str(start + n)
                return self.reply(200, body)
            if method == "POST":
                self.if_match(st)
                req = json.loads(raw or b"{}")
                puts, deletes = req.get("Puts") or [], req.get("Deletes") or []
                if len(puts) + len(deletes) > MAX_BATCH:
                    raise Error(400, "ValidationException", "at most 50 puts and deletes")
                for p in puts:
                    check_key(p["Key"])
                    check_value(p["Value"])
                for d in deletes:
                    check_key(d["Key"])
                before = dict(st.items)
                for d in deletes:
                    st.items.pop(d["Key"], None)
                for p in puts:
                    st.items[p["Key"]] = p["Value"]
                try:
                    self.changed(st)
                except Error:
                    st.items = before
                    raise
                return self.reply(200, st.meta(), st.etag)
            raise Error(405, "ValidationException", "method not allowed")
        key = unquote("/".join(rest[1:]))
        check_key(key)
        if method == "GET":
            if key not in st.items:
                raise Error(404, "ResourceNotFoundException", "no such key")
            return self.reply(200, {"Key": key, "Value": st.items[key], **st.meta()})
        if method == "PUT":
            self.if_match(st)
            value = json.loads(raw or b"{}").get("Value", "")
            check_value(value)
            before = st.items.get(key)
            st.items[key] = value
            try:
                self.changed(st)
            except Error:
                if before is None:
                    st.items.pop(key, None)
                else:
                    st.items[key] = before
                raise
            return self.reply(200, st.meta(), st.etag)
        if method == "DELETE":
            self.if_match(st)
            if key not in st.items:
                raise Error(404, "ResourceNotFoundException", "no such key")
            del st.items[key]
            self.changed(st)
            return self.reply(200, st.meta(), st.etag)
        raise Error(405, "ValidationException", "method not allowed")

    def do_GET(self) -> None:
        self.handle_any("GET")

    def do_PUT(self) -> None:
        self.handle_any("PUT")

    def do_POST(self) -> None:
        self.handle_any("POST")

    def do_DELETE(self) -> None:
        self.handle_any("DELETE")


def serve() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    sys.stdin.read()  # until the test closes the pipe or exits
    server.shutdown()


if __name__ == "__main__":
    serve()
