import cf from 'cloudfront';
// cfissuer grant deny-list: a CloudFront Function (cloudfront-js-2.0, viewer
// request) that answers 403 when the request's grant or subject is in the
// KeyValueStore. Terraform ships this file and the local edge runs it
// (edge/cffunc), byte for byte. It only ever denies, so it holds whether
// CloudFront runs it before or after the signature check, and it never throws.
//
// Deny keys (values: the epoch second the entry stops denying):
//   URL mode (Expires, Policy, Signature or Key-Pair-Id in the query):
//     every dot-separated part of each "gid" value, e.g. gid=g0123….s42:
//     the grant and the subject, inside the signed URL.
//   cookie mode: "c" + the first 20 hex digits of SHA-256 of each
//     CloudFront-Signature cookie (the grant), and "s" + the DateGreaterThan
//     of each CloudFront-Policy cookie when it is below 2^30 (the subject,
//     inside the signed policy).
const kvs = cf.kvs();
const crypto = require('crypto');

const MAX_KEYS = 8;
const KEY = /^[a-z][0-9a-z]{1,40}$/;
const SUBJECT_TAG_MAX = 1073741824; // 2^30: a DateGreaterThan below it is a subject tag
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function values(map, name) {
  var out = [];
  var e = map && map[name];
  if (!e) return out;
  if (e.multiValue && e.multiValue.length) {
    for (var i = 0; i < e.multiValue.length; i++) {
      if (e.multiValue[i] && typeof e.multiValue[i].value === 'string') out.push(e.multiValue[i].value);
    }
  } else if (typeof e.value === 'string') {
    out.push(e.value);
  }
  return out;
}

// CloudFront's base64 ('-' for '+', '_' for '=', '~' for '/') to a string.
function unbase64(s) {
  s = s.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/').replace(/=+$/, '');
  var out = '', bits = 0, n = 0;
  for (var i = 0; i < s.length; i++) {
    var v = B64.indexOf(s.charAt(i));
    if (v < 0) return '';
    bits = (bits << 6) | v;
    n += 6;
    if (n >= 8) {
      n -= 8;
      out += String.fromCharCode((bits >> n) & 0xff);
    }
  }
  return out;
}

function subjectOf(policyCookie) {
  var m = /"DateGreaterThan"\s*:\s*\{\s*"AWS:EpochTime"\s*:\s*(\d{1,10})\s*\}/.exec(unbase64(policyCookie));
  if (!m) return '';
  var n = parseInt(m[1], 10);
  return n > 0 && n <= SUBJECT_TAG_MAX ? 's' + n : '';
}

function denyKeys(request) {
  var keys = [];
  var add = function (k) {
    if (KEY.test(k) && keys.indexOf(k) < 0 && keys.length < MAX_KEYS) keys.push(k);
  };
  var q = request.querystring || {};
  if (q['Expires'] || q['Policy'] || q['Signature'] || q['Key-Pair-Id']) {
    var gids = values(q, 'gid');
    for (var i = 0; i < gids.length; i++) {
      var parts = gids[i].split('.');
      for (var j = 0; j < parts.length && j < 4; j++) add(parts[j]);
    }
    return keys;
  }
  var c = request.cookies || {};
  var sigs = values(c, 'CloudFront-Signature');
  for (var k = 0; k < sigs.length; k++) {
    add('c' + crypto.createHash('sha256').update(sigs[k]).digest('hex').slice(0, 20));
  }
  var pols = values(c, 'CloudFront-Policy');
  for (var p = 0; p < pols.length; p++) add(subjectOf(pols[p]));
  return keys;
}

function denied() {
  return {
    statusCode: 403,
    statusDescription: 'Forbidden',
    headers: {
      'content-type': { value: 'text/xml' },
      'cache-control': { value: 'no-store' },
    },
    body: {
      encoding: 'text',
      data: '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>',
    },
  };
}

async function handler(event) {
  var request = event && event.request;
  if (!request) return request;
  var keys;
  try {
    keys = denyKeys(request);
  } catch (e) {
    return request; // malformed input: CloudFront's own check decides
  }
  var now = Math.floor(Date.now() / 1000);
  for (var i = 0; i < keys.length; i++) {
    var until;
    try {
      until = await kvs.get(keys[i]);
    } catch (e) {
      continue; // not in the store (or the store failed: fail open, the signature still holds)
    }
    var t = parseInt(until, 10);
    if (isNaN(t) || t > now) return denied();
  }
  return request;
}
