package links_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cfissuer/cfissuer/internal/awstest"
	"github.com/cfissuer/cfissuer/internal/links"
	"github.com/cfissuer/cfissuer/internal/links/linkstest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

func TestFileStoreConformance(t *testing.T) {
	linkstest.RunConformance(t, func(t *testing.T) linkstest.Harness {
		dir := t.TempDir()
		open := func(t *testing.T) links.Store {
			s, err := links.OpenFileStore(dir, links.FileOptions{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return linkstest.Harness{Store: open(t), Reopen: open}
	})
}

func TestDynamoDBStoreConformance(t *testing.T) {
	srv := awstest.Start(t)
	client := dynamodb.NewFromConfig(srv.Config())
	n := 0
	linkstest.RunConformance(t, func(t *testing.T) linkstest.Harness {
		n++
		table := fmt.Sprintf("conformance-%d", n)
		if err := links.CreateDynamoDBTable(context.Background(), client, table); err != nil {
			t.Fatal(err)
		}
		open := func(t *testing.T) links.Store {
			// A second client: another replica shares nothing but the table.
			s, err := links.NewDynamoDBStore(dynamodb.NewFromConfig(srv.Config()), table, links.DynamoDBOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return linkstest.Harness{Store: open(t), Reopen: open, Replicas: true}
	})
}

func TestDynamoDBStoreTTLAndErrors(t *testing.T) {
	srv := awstest.Start(t)
	client := dynamodb.NewFromConfig(srv.Config())
	ctx := context.Background()
	if err := links.CreateDynamoDBTable(ctx, client, "ttl"); err != nil {
		t.Fatal(err)
	}
	s, err := links.NewDynamoDBStore(client, "ttl", links.DynamoDBOptions{KeepExpired: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	l := linkstest.Link(1)
	if err := s.Create(ctx, l); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: strPtr("ttl"), Key: keyOf(l.ID)})
	if err != nil {
		t.Fatal(err)
	}
	got := numberAttr(out.Item[links.AttrTTL])
	if want := fmt.Sprint(l.Expires.Add(time.Hour).Unix()); got != want {
		t.Errorf("TTL attribute = %q, want %s (expiry + KeepExpired)", got, want)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: strPtr("ttl")})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.AttributeName == nil || *d.AttributeName != links.AttrTTL {
		t.Errorf("table TTL = %+v, want enabled on %s", d, links.AttrTTL)
	}

	// A table that does not exist: ErrStore, with the table's name and no
	// secret (there is none to leak here, but the wrapping must hold).
	missing, _ := links.NewDynamoDBStore(client, "no-such-table", links.DynamoDBOptions{})
	if _, err := missing.Get(ctx, l.ID); !isStoreErr(err) || !strings.Contains(err.Error(), "no-such-table") {
		t.Errorf("Get on a missing table: %v, want ErrStore naming the table", err)
	}
}

func TestFileStoreCrashSafety(t *testing.T) {
	dir := t.TempDir()
	now := t0
	s, err := links.OpenFileStore(dir, links.FileOptions{Now: func() time.Time { return now }, KeepExpired: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	old, fresh := linkstest.Link(1), linkstest.Link(2)
	old.Expires = t0.Add(time.Minute)
	for _, l := range []links.Link{old, fresh} {
		if err := s.Create(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(filepath.Join(dir, links.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("links file mode %v, want 0600", perm)
	}
	// A write that cannot land (the folder made read-only) is an error, and
	// the store's memory does not run ahead of the disk.
	if os.Getuid() != 0 {
		os.Chmod(dir, 0o500)
		if _, err := s.Revoke(ctx, fresh.ID, t0); !isStoreErr(err) {
			t.Errorf("Revoke with a read-only folder: %v, want ErrStore", err)
		}
		os.Chmod(dir, 0o700)
		if got, _ := s.Get(ctx, fresh.ID); !got.Revoked.IsZero() {
			t.Error("a revocation that failed to reach the disk is visible in memory")
		}
	}
	// Expired for longer than KeepExpired: dropped at the next write.
	now = t0.Add(2 * time.Hour)
	if _, err := s.Revoke(ctx, fresh.ID, now); err != nil {
		t.Fatal(err)
	}
	re, err := links.OpenFileStore(dir, links.FileOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := re.Get(ctx, old.ID); !isNotFound(err) {
		t.Errorf("a link expired for longer than KeepExpired is still stored: %v", err)
	}
	if got, err := re.Get(ctx, fresh.ID); err != nil || got.Revoked.IsZero() {
		t.Errorf("after reopening: %+v, %v; want revoked", got, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	// A damaged file is refused at open, not silently emptied (which would
	// forget every revocation).
	if err := os.WriteFile(filepath.Join(dir, links.FileName), []byte(`{"version":1,"links":[{"id":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := links.OpenFileStore(dir, links.FileOptions{}); !isStoreErr(err) {
		t.Errorf("open of a damaged file: %v, want ErrStore", err)
	}
}
