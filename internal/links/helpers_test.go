package links_test

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cfissuer/cfissuer/internal/links"
)

func strPtr(s string) *string { return &s }

func keyOf(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{links.AttrID: &types.AttributeValueMemberS{Value: id}}
}

func numberAttr(v types.AttributeValue) string {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return ""
}

func isStoreErr(err error) bool { return errors.Is(err, links.ErrStore) }
func isNotFound(err error) bool { return errors.Is(err, links.ErrNotFound) }
