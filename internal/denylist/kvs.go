package denylist

import (
	"context"
	"errors"
	"fmt"

	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	"github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore/types"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// KVSClient is the part of *cloudfrontkeyvaluestore.Client that KVS uses.
type KVSClient interface {
	DescribeKeyValueStore(ctx context.Context, in *kvs.DescribeKeyValueStoreInput, opts ...func(*kvs.Options)) (*kvs.DescribeKeyValueStoreOutput, error)
	ListKeys(ctx context.Context, in *kvs.ListKeysInput, opts ...func(*kvs.Options)) (*kvs.ListKeysOutput, error)
	UpdateKeys(ctx context.Context, in *kvs.UpdateKeysInput, opts ...func(*kvs.Options)) (*kvs.UpdateKeysOutput, error)
}

// kvsAttempts is how many times Update tries when another writer changed
// the store between reading its ETag and writing.
const kvsAttempts = 5

// KVS is a Store in a CloudFront KeyValueStore, through the
// cloudfrontkeyvaluestore API. Writes are conditional on the store's ETag
// (If-Match): a write that lost a race with another replica gets a
// ConflictException and is retried with the new ETag.
type KVS struct {
	client KVSClient
	arn    string
}

// NewKVS returns a Store for the KeyValueStore with the given ARN (the
// Terraform module's revocation_kvs_arn output).
func NewKVS(client KVSClient, arn string) (*KVS, error) {
	if client == nil || arn == "" {
		return nil, errors.New("denylist: NewKVS needs a client and a store ARN")
	}
	return &KVS{client: client, arn: arn}, nil
}

// Entries implements Store.
func (s *KVS) Entries(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	p := kvs.NewListKeysPaginator(s.client, &kvs.ListKeysInput{KvsARN: aws.String(s.arn), MaxResults: aws.Int32(50)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		for _, it := range page.Items {
			out[aws.ToString(it.Key)] = aws.ToString(it.Value)
		}
	}
	return out, nil
}

// Update implements Store.
func (s *KVS) Update(ctx context.Context, puts map[string]string, deletes []string) error {
	if len(puts)+len(deletes) == 0 {
		return nil
	}
	if len(puts)+len(deletes) > MaxBatch {
		return fmt.Errorf("update keys: %d operations, at most %d", len(puts)+len(deletes), MaxBatch)
	}
	in := &kvs.UpdateKeysInput{KvsARN: aws.String(s.arn)}
	for k, v := range puts {
		in.Puts = append(in.Puts, types.PutKeyRequestListItem{Key: aws.String(k), Value: aws.String(v)})
	}
	for _, k := range deletes {
		in.Deletes = append(in.Deletes, types.DeleteKeyRequestListItem{Key: aws.String(k)})
	}
	var err error
	for range kvsAttempts {
		var d *kvs.DescribeKeyValueStoreOutput
		if d, err = s.client.DescribeKeyValueStore(ctx, &kvs.DescribeKeyValueStoreInput{KvsARN: aws.String(s.arn)}); err != nil {
			return fmt.Errorf("describe key value store: %w", err)
		}
		in.IfMatch = d.ETag
		if _, err = s.client.UpdateKeys(ctx, in); err == nil {
			return nil
		}
		if ce := (*types.ConflictException)(nil); !errors.As(err, &ce) {
			return fmt.Errorf("update keys: %w", err)
		}
	}
	return fmt.Errorf("update keys: still conflicting after %d attempts: %w", kvsAttempts, err)
}

// WithEndpoint pins the cloudfrontkeyvaluestore client to one endpoint
// (an emulation, a proxy), for kvs.NewFromConfig. BaseEndpoint alone is
// not enough: the client's resolver prefixes the store's account ID to the
// host ("123456789012.127.0.0.1:PORT").
func WithEndpoint(endpoint string) func(*kvs.Options) {
	return func(o *kvs.Options) { o.EndpointResolverV2 = staticEndpoint{endpoint} }
}

type staticEndpoint struct{ url string }

func (e staticEndpoint) ResolveEndpoint(ctx context.Context, _ kvs.EndpointParameters) (smithyendpoints.Endpoint, error) {
	u, err := url.Parse(e.url)
	if err != nil {
		return smithyendpoints.Endpoint{}, fmt.Errorf("denylist: endpoint %q: %w", e.url, err)
	}
	return smithyendpoints.Endpoint{URI: *u}, nil
}
