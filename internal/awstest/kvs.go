package awstest

import (
	_ "embed"
	"strings"
	"testing"
)

//go:embed kvs_ext.py
var kvsEmulator []byte

// StartKVS runs kvs_ext.py, a minimal emulation of the CloudFront
// KeyValueStore API (moto 5.2.1 has none), with the stores named by arns,
// and returns it once it serves. Its Config works with the real
// service/cloudfrontkeyvaluestore client. It needs python3 only.
func StartKVS(t testing.TB, arns ...string) *Server {
	t.Helper()
	s, err := launch(t, "kvs_ext.py", kvsEmulator, "KVS_STORES="+strings.Join(arns, ","))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
