package denylist_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"

	"github.com/cfissuer/cfissuer/internal/awstest"
	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/policy"
)

const testARN = "arn:aws:cloudfront::123456789012:key-value-store/0b2c4e6a-1111-2222-3333-444455556666"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stores returns each Store under test: memory, and the real
// cloudfrontkeyvaluestore client against the KeyValueStore emulation.
func stores(t *testing.T) map[string]func(t *testing.T) denylist.Store {
	return map[string]func(t *testing.T) denylist.Store{
		"memory": func(t *testing.T) denylist.Store { return denylist.NewMemory() },
		"kvs": func(t *testing.T) denylist.Store {
			srv := awstest.StartKVS(t, testARN)
			s, err := denylist.NewKVS(kvs.NewFromConfig(srv.Config(), denylist.WithEndpoint(srv.Endpoint)), testARN)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

func TestList(t *testing.T) {
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := mk(t)
			clk := &clock{t: time.Unix(1_800_000_000, 0)}
			l, err := denylist.New(st, denylist.Options{Now: clk.now})
			if err != nil {
				t.Fatal(err)
			}
			gid := policy.URLGrantID("", "https://d.example/a", clk.now())
			if err := l.RevokeGrant(ctx, gid, clk.now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			// A shorter revocation of the same grant keeps the later time.
			if err := l.RevokeGrant(ctx, gid, clk.now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			key, err := l.RevokeSubject(ctx, "user-42", clk.now().Add(2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if want := policy.SubjectKey("user-42"); key != want {
				t.Errorf("subject key = %q, want %q", key, want)
			}
			all, err := st.Entries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := all[gid], strconv.FormatInt(clk.now().Add(time.Hour).Unix(), 10); got != want {
				t.Errorf("entry %s = %q, want %q", gid, got, want)
			}
			if _, ok := all[key]; !ok || len(all) != 2 {
				t.Errorf("entries = %v, want the grant and the subject", all)
			}

			// One second before the grant's entry expires it still denies;
			// on the boundary it is gone from Until, and Sweep removes it.
			clk.add(time.Hour - time.Second)
			if _, ok, _ := l.Until(ctx, gid); !ok {
				t.Errorf("Until(%s) one second before expiry = false", gid)
			}
			clk.add(time.Second)
			if _, ok, _ := l.Until(ctx, gid); ok {
				t.Errorf("Until(%s) at expiry = true", gid)
			}
			n, err := l.Sweep(ctx)
			if err != nil || n != 1 {
				t.Fatalf("Sweep = %d, %v; want 1", n, err)
			}
			all, _ = st.Entries(ctx)
			if _, ok := all[gid]; ok {
				t.Errorf("after expiry and a sweep, %s is still in the store", gid)
			}
			if _, ok := all[key]; !ok {
				t.Errorf("the sweep removed the subject entry, which has an hour left")
			}

			// A revocation sweeps expired entries in the same write.
			clk.add(time.Hour)
			other := policy.CookieGrantID("sig")
			if err := l.RevokeGrant(ctx, other, clk.now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			all, _ = st.Entries(ctx)
			if len(all) != 1 || all[other] == "" {
				t.Errorf("entries = %v, want only %s", all, other)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	l, _ := denylist.New(denylist.NewMemory(), denylist.Options{})
	ctx := context.Background()
	for _, id := range []string{"", "s123", "G0123", "g", "g-ABC", "x0123", "g" + string(make([]byte, 50))} {
		if err := l.RevokeGrant(ctx, id, time.Now().Add(time.Hour)); !errors.Is(err, denylist.ErrInvalidKey) {
			t.Errorf("RevokeGrant(%q) = %v, want ErrInvalidKey", id, err)
		}
	}
	if _, err := l.RevokeSubject(ctx, "", time.Now().Add(time.Hour)); !errors.Is(err, denylist.ErrInvalidKey) {
		t.Errorf("RevokeSubject(\"\") = %v, want ErrInvalidKey", err)
	}
	if err := l.RevokeGrant(ctx, "g0123456789abcdef0123", time.Now().Add(-time.Second)); err == nil {
		t.Error("RevokeGrant with a past time succeeded")
	}
}

// TestKVSConcurrentWriters: replicas writing at once all land, through the
// ETag conditional writes (the losers of a race retry), and a write with a
// stale ETag is refused by the emulation as by CloudFront.
func TestKVSConcurrentWriters(t *testing.T) {
	srv := awstest.StartKVS(t, testARN)
	client := kvs.NewFromConfig(srv.Config(), denylist.WithEndpoint(srv.Endpoint))
	st, _ := denylist.NewKVS(client, testARN)
	ctx := context.Background()

	d, err := client.DescribeKeyValueStore(ctx, &kvs.DescribeKeyValueStoreInput{KvsARN: &[]string{testARN}[0]})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, map[string]string{"g00": "1"}, nil); err != nil {
		t.Fatal(err)
	}
	k, v := "g01", "1"
	_, err = client.PutKey(ctx, &kvs.PutKeyInput{KvsARN: &[]string{testARN}[0], Key: &k, Value: &v, IfMatch: d.ETag})
	if err == nil {
		t.Fatal("PutKey with a stale ETag succeeded")
	}

	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, _ := denylist.New(st, denylist.Options{})
			errs <- l.RevokeGrant(ctx, fmt.Sprintf("g%020d", i), time.Now().Add(time.Hour))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	all, err := st.Entries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range writers {
		if _, ok := all[fmt.Sprintf("g%020d", i)]; !ok {
			t.Errorf("writer %d's entry is missing: %v", i, all)
		}
	}
}

// failing is a Store whose every call fails, as an unreachable
// KeyValueStore API does.
type failing struct{ err error }

func (f failing) Entries(context.Context) (map[string]string, error)        { return nil, f.err }
func (f failing) Update(context.Context, map[string]string, []string) error { return f.err }

func TestStoreErrors(t *testing.T) {
	cause := errors.New("connection refused")
	l, _ := denylist.New(failing{cause}, denylist.Options{})
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	_, subjErr := l.RevokeSubject(ctx, "u1", until)
	_, sweepErr := l.Sweep(ctx)
	_, _, untilErr := l.Until(ctx, "g00000000000000000000")
	for name, err := range map[string]error{
		"RevokeGrant":   l.RevokeGrant(ctx, "g0123456789abcdef0123", until),
		"RevokeSubject": subjErr, "Sweep": sweepErr, "Until": untilErr,
	} {
		if !errors.Is(err, denylist.ErrStore) || !errors.Is(err, cause) {
			t.Errorf("%s = %v, want ErrStore wrapping the cause", name, err)
		}
	}
}
