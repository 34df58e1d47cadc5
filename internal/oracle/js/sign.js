// Signs a batch of requests with the npm @aws-sdk/cloudfront-signer, an
// independent implementation that cfissuer's tests cross-check against.
// stdin: a JSON array of requests (see internal/oracle/oracle.go);
// stdout: a JSON array of results, one per request.
"use strict";
const fs = require("node:fs");
const { getSignedUrl, getSignedCookies } = require("@aws-sdk/cloudfront-signer");

const reqs = JSON.parse(fs.readFileSync(0, "utf8"));
const keyCache = new Map();
const results = reqs.map((r) => {
  try {
    if (!keyCache.has(r.key_file)) keyCache.set(r.key_file, fs.readFileSync(r.key_file, "utf8"));
    const base = {
      keyPairId: r.key_id,
      privateKey: keyCache.get(r.key_file),
      algorithm: r.hash === "SHA256" ? "SHA256" : "SHA1",
    };
    let input;
    let policy;
    if (r.resource) {
      // A wildcard resource: the signer takes a policy string as given, so
      // the policy is built here, in JavaScript's own key order.
      const cond = { DateLessThan: { "AWS:EpochTime": r.expires } };
      if (r.not_before) cond.DateGreaterThan = { "AWS:EpochTime": r.not_before };
      if (r.ip) cond.IpAddress = { "AWS:SourceIp": r.ip.includes("/") ? r.ip : r.ip + "/32" };
      policy = JSON.stringify({ Statement: [{ Resource: r.resource, Condition: cond }] });
      input = { ...base, url: r.url, policy };
    } else {
      input = { ...base, url: r.url, dateLessThan: new Date(r.expires * 1000) };
      if (r.not_before) input.dateGreaterThan = new Date(r.not_before * 1000);
      if (r.ip) input.ipAddress = r.ip;
    }
    if (r.cookies) {
      const c = getSignedCookies(input);
      const cookies = {};
      for (const [k, v] of Object.entries(c)) if (v !== undefined) cookies[k] = String(v);
      return { cookies };
    }
    return { url: getSignedUrl(input) };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
});
process.stdout.write(JSON.stringify(results));
