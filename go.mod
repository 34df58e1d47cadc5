module github.com/cfissuer/cfissuer

go 1.26.0

require (
	github.com/aws/aws-sdk-go-v2 v1.41.1
	github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign v1.9.17
	github.com/aws/smithy-go v1.24.0
	github.com/hashicorp/golang-lru/v2 v2.0.7
	golang.org/x/time v0.16.0
)
