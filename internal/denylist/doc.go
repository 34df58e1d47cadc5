// Package denylist revokes grants before they expire: it writes deny entries
// (a grant ID or a subject key, see policy.URLGrantID, policy.CookieGrantID
// and policy.SubjectKey) to a CloudFront KeyValueStore, where the edge
// function terraform/functions/deny.js reads them and answers 403.
//
// Each entry's value is the Unix second at which it stops denying: the
// longest lifetime of anything issued, after which every credential it
// could match has expired anyway. The function ignores entries whose time
// has passed, and List deletes them on every write and on Sweep, so the
// store (5 MB, keys ≤ 512 bytes, values ≤ 1 KB) stays small.
//
// A Store is where entries live: Memory for the local edge and tests, KVS
// for the cloudfrontkeyvaluestore API of aws-sdk-go-v2 (conditional writes
// with the store's ETag, retried on a conflict). List, Memory and KVS are
// safe for concurrent use. Errors callers may test for: ErrInvalidKey, and ErrStore
// for a Store that failed.
package denylist
