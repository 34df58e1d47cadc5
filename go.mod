module github.com/cfissuer/cfissuer

go 1.26

require github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign v1.9.17
