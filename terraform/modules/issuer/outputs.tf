output "function_url" {
  description = "The issuer's HTTPS endpoint (Function URL)."
  value       = aws_lambda_function_url.this.function_url
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "role_arn" {
  description = "ARN of the function's role."
  value       = aws_iam_role.this.arn
}

output "policy_json" {
  description = "The role's policy: reuse it for the container deployment's role (IRSA), with its own trust policy."
  value       = data.aws_iam_policy_document.issuer.json
}

output "links_table_name" {
  description = "The DynamoDB table for permanent links (links.table in a container's config)."
  value       = aws_dynamodb_table.links.name
}

output "config" {
  description = "The config the function runs with (no secrets)."
  value       = local.config_json
}
