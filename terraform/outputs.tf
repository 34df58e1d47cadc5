output "distribution_id" {
  description = "ID of the CloudFront distribution (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "ARN of the CloudFront distribution (the AWS:SourceArn the bucket and key policies trust)."
  value       = aws_cloudfront_distribution.this.arn
}

output "distribution_domain_name" {
  description = "The distribution's *.cloudfront.net name: point the aliases' DNS records at it."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "distribution_hosted_zone_id" {
  description = "Route 53 zone ID for alias records to the distribution."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "bucket_name" {
  description = "Name of the private origin bucket: upload the content here."
  value       = aws_s3_bucket.origin.id
}

output "bucket_arn" {
  description = "ARN of the private origin bucket."
  value       = aws_s3_bucket.origin.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the bucket, or null with SSE-S3."
  value       = var.kms_encryption ? aws_kms_key.origin[0].arn : null
}

output "key_group_id" {
  description = "ID of the trusted key group, or null when no behavior is signed and no key is given."
  value       = one(aws_cloudfront_key_group.this[*].id)
}

output "public_key_ids" {
  description = "CloudFront public key IDs by the names in public_keys: what goes into Key-Pair-Id."
  value       = { for k, key in aws_cloudfront_public_key.this : k => key.id }
}

output "viewer_origin" {
  description = "https:// and the first alias, or the distribution's domain name without aliases."
  value       = local.viewer_origin
}

output "issuer_config" {
  description = "The behaviors file (docs/behaviors.schema.json) completed with viewer_origin and key_ids, defaults written out: `terraform output -raw issuer_config > behaviors.json`, then `cfissuer serve --behaviors behaviors.json`."
  value       = jsonencode(local.issuer_config)
}

output "revocation_kvs_arn" {
  description = "ARN of the deny-list KeyValueStore, or null when revocation is off: the issuer's revocation.kvs_arn, and the one store its role may write (cloudfront-keyvaluestore:DescribeKeyValueStore, ListKeys and UpdateKeys on this ARN; modules/issuer's revocation_kvs_arn)."
  value       = one(aws_cloudfront_key_value_store.deny[*].arn)
}

output "revocation_function_arn" {
  description = "ARN of the deny-list CloudFront Function (functions/deny.js), or null when revocation is off."
  value       = one(aws_cloudfront_function.deny[*].arn)
}
