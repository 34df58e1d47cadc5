// The fastest peer of make bench: the npm @aws-sdk/cloudfront-signer (RSA
// through Node's OpenSSL) with the key parsed once, signing every request
// of the same Zipf workload as the load test (resource k with probability
// ∝ (k+1)^-s; ebooks and assets as signed URLs with SHA-1, course prefixes
// as custom-policy cookies with SHA-256, as examples/behaviors.json asks).
// It has no cache: every request signs. Prints one JSON object.
//
// usage: NODE_PATH=internal/oracle/js/node_modules node bench/peer.js KEY.pem SECONDS
"use strict";
const fs = require("node:fs");
const crypto = require("node:crypto");
const { getSignedUrl, getSignedCookies } = require("@aws-sdk/cloudfront-signer");

const [keyFile, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || "5");
const privateKey = crypto.createPrivateKey(fs.readFileSync(keyFile, "utf8"));
const origin = "https://media.example.test";
const keyPairId = "KBENCHRSA";
const N = 10000, S = 1.1;

// The Zipf CDF, sampled by binary search.
const cdf = new Float64Array(N);
let h = 0;
for (let k = 0; k < N; k++) { h += Math.pow(k + 1, -S); cdf[k] = h; }
for (let k = 0; k < N; k++) cdf[k] /= h;
function draw() {
  const u = Math.random();
  let lo = 0, hi = N - 1;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid] < u) lo = mid + 1; else hi = mid; }
  return lo;
}

const expires = new Date((Math.ceil(Date.now() / 3600000) + 1) * 3600000);
const epoch = Math.floor(expires.getTime() / 1000);
function signOne(k) {
  switch (k % 3) {
    case 0:
      return getSignedUrl({ url: `${origin}/ebooks/book-${k}.pdf`, keyPairId, privateKey, dateLessThan: expires });
    case 1:
      return getSignedUrl({ url: `${origin}/assets/img-${k}.png`, keyPairId, privateKey, dateLessThan: expires });
    default: {
      const policy = JSON.stringify({ Statement: [{ Resource: `${origin}/courses/c-${k}/*`, Condition: { DateLessThan: { "AWS:EpochTime": epoch } } }] });
      return getSignedCookies({ policy, keyPairId, privateKey, algorithm: "SHA256" });
    }
  }
}

// Warm up (JIT), then measure.
for (let i = 0; i < 200; i++) signOne(draw());
const urlsOnly = process.argv[4] === "urls";
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
let ops = 0;
const deadline = t0 + BigInt(Math.round(seconds * 1e9));
while (process.hrtime.bigint() < deadline) {
  for (let i = 0; i < 50; i++) {
    let k = draw();
    if (urlsOnly && k % 3 === 2) k -= 2;
    signOne(k);
    ops++;
  }
}
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(JSON.stringify({
  signer: "@aws-sdk/cloudfront-signer " + require("@aws-sdk/cloudfront-signer/package.json").version,
  node: process.version, ops, seconds: wall, cpu_seconds: cpuSeconds,
  ops_per_second: ops / wall, ops_per_cpu_second: ops / cpuSeconds,
}) + "\n");
