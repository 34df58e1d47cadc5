output "distribution_id" {
  description = "CloudFront distribution ID."
  value       = module.cfissuer.distribution_id
}

output "distribution_domain_name" {
  description = "Point the alias's DNS record here."
  value       = module.cfissuer.distribution_domain_name
}

output "bucket_name" {
  description = "Upload the content here."
  value       = module.cfissuer.bucket_name
}

output "key_group_id" {
  description = "The trusted key group."
  value       = module.cfissuer.key_group_id
}

output "public_key_ids" {
  description = "Key-Pair-Id of each key."
  value       = module.cfissuer.public_key_ids
}

output "issuer_config" {
  description = "terraform output -raw issuer_config > behaviors.json; cfissuer serve --behaviors behaviors.json"
  value       = module.cfissuer.issuer_config
}
