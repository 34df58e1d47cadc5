package links

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDBAPI is the part of *dynamodb.Client a DynamoDBStore uses.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Attribute names of the DynamoDB table. The partition key is AttrID (a
// string); AttrTTL is the table's TTL attribute.
const (
	AttrID       = "id"
	attrCaller   = "caller"
	attrResource = "resource"
	attrFilename = "filename"
	attrNote     = "note"
	attrKeyID    = "key_id"
	attrCreated  = "created"
	attrExpires  = "expires"
	attrRevoked  = "revoked"
	AttrTTL      = "expires_ttl"
)

// DynamoDBOptions are a DynamoDBStore's optional settings; the zero value
// of each field is its documented default.
type DynamoDBOptions struct {
	// KeepExpired is added to a link's expiry to make its TTL attribute, so
	// DynamoDB deletes it that long after it expires; zero means
	// DefaultKeepExpired.
	KeepExpired time.Duration
}

// A DynamoDBStore keeps links in a DynamoDB table shared by every replica
// of the issuer: one item per link, partition key AttrID. Create is a
// conditional put (the ID must be new), Revoke a conditional update that
// keeps the first revocation time, and Get a strongly consistent read, so
// a revocation made through one replica is seen by every replica's next
// follow. The table's TTL attribute (AttrTTL) lets DynamoDB delete links
// KeepExpired after they expire; reads never rely on it.
//
// A DynamoDBStore is safe for concurrent use.
type DynamoDBStore struct {
	client DynamoDBAPI
	table  string
	keep   time.Duration
}

// NewDynamoDBStore returns a store on table through client (build it with
// the SDK's configuration chain; tests point it at moto_server).
func NewDynamoDBStore(client DynamoDBAPI, table string, opts DynamoDBOptions) (*DynamoDBStore, error) {
	if client == nil || table == "" {
		return nil, errors.New("links: NewDynamoDBStore needs a client and a table name")
	}
	if opts.KeepExpired < 0 {
		return nil, errors.New("links: negative KeepExpired")
	}
	if opts.KeepExpired == 0 {
		opts.KeepExpired = DefaultKeepExpired
	}
	return &DynamoDBStore{client: client, table: table, keep: opts.KeepExpired}, nil
}

var idName = map[string]string{"#id": AttrID}

func unix(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// Create implements Store.
func (s *DynamoDBStore) Create(ctx context.Context, l Link) error {
	item := map[string]types.AttributeValue{
		AttrID: str(l.ID), attrCaller: str(l.Caller), attrResource: str(l.Resource), attrKeyID: str(l.KeyID),
		attrCreated: unix(l.Created), attrExpires: unix(l.Expires), AttrTTL: unix(l.Expires.Add(s.keep)),
	}
	if l.Filename != "" {
		item[attrFilename] = str(l.Filename)
	}
	if l.Note != "" {
		item[attrNote] = str(l.Note)
	}
	if !l.Revoked.IsZero() {
		item[attrRevoked] = unix(l.Revoked)
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: idName,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return ErrExists
	case err != nil:
		return s.storeErr("put", err)
	}
	return nil
}

// Get implements Store.
func (s *DynamoDBStore) Get(ctx context.Context, id string) (Link, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: map[string]types.AttributeValue{AttrID: str(id)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Link{}, s.storeErr("get", err)
	}
	if len(out.Item) == 0 {
		return Link{}, ErrNotFound
	}
	return s.decode(out.Item)
}

// Revoke implements Store.
func (s *DynamoDBStore) Revoke(ctx context.Context, id string, at time.Time) (Link, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: map[string]types.AttributeValue{AttrID: str(id)},
		UpdateExpression:          aws.String("SET #revoked = if_not_exists(#revoked, :at)"),
		ConditionExpression:       aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames:  map[string]string{"#id": AttrID, "#revoked": attrRevoked},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": unix(at)},
		ReturnValues:              types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return Link{}, ErrNotFound
	case err != nil:
		return Link{}, s.storeErr("update", err)
	}
	return s.decode(out.Attributes)
}

func (s *DynamoDBStore) storeErr(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: dynamodb %s on table %s: %w", ErrStore, op, s.table, err)
}

func (s *DynamoDBStore) decode(item map[string]types.AttributeValue) (Link, error) {
	var l Link
	var bad []string
	getS := func(name string, dst *string, required bool) {
		switch v := item[name].(type) {
		case *types.AttributeValueMemberS:
			*dst = v.Value
		case nil:
			if required {
				bad = append(bad, name)
			}
		default:
			bad = append(bad, name)
		}
	}
	getT := func(name string, dst *time.Time, required bool) {
		switch v := item[name].(type) {
		case *types.AttributeValueMemberN:
			n, err := strconv.ParseInt(v.Value, 10, 64)
			if err != nil {
				bad = append(bad, name)
				return
			}
			*dst = time.Unix(n, 0).UTC()
		case nil:
			if required {
				bad = append(bad, name)
			}
		default:
			bad = append(bad, name)
		}
	}
	getS(AttrID, &l.ID, true)
	getS(attrCaller, &l.Caller, true)
	getS(attrResource, &l.Resource, true)
	getS(attrFilename, &l.Filename, false)
	getS(attrNote, &l.Note, false)
	getS(attrKeyID, &l.KeyID, true)
	getT(attrCreated, &l.Created, true)
	getT(attrExpires, &l.Expires, true)
	getT(attrRevoked, &l.Revoked, false)
	if len(bad) > 0 {
		return Link{}, fmt.Errorf("%w: table %s holds an item with bad attributes %v", ErrStore, s.table, bad)
	}
	return l, nil
}

// CreateDynamoDBTable creates a table for a DynamoDBStore (on-demand
// capacity, partition key AttrID, TTL on AttrTTL) and waits until it is
// active. It is for tests and first set-ups; production tables are better
// made by infrastructure code with the same schema.
func CreateDynamoDBTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(AttrID), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(AttrID), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("links: create table %s: %w", table, err)
	}
	if err := dynamodb.NewTableExistsWaiter(client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("links: wait for table %s: %w", table, err)
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(AttrTTL), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("links: enable TTL on %s: %w", table, err)
	}
	return nil
}
