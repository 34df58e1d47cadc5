# The issuer on AWS Lambda: the static binary (provided.al2023) behind a Function URL, its config and
# behaviors in SSM parameters (no secrets: key sources and caller hashes), a role that may read only
# its own keys, parameters, links table and deny-list store, and the DynamoDB table for permanent links.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  links_on = length(var.link_key_parameters) > 0
  link_env = { for id, _ in var.link_key_parameters : id => "CFISSUER_LINK_KEY_${upper(replace(id, "-", "_"))}" }

  config = merge({
    listen = "127.0.0.1:8080" # unused in Lambda
    log    = { level = "info", format = "json" }
    keys = [for id, k in var.signing_keys : merge(
      { id = id },
      k.kms_key_arn != null ? { kms = { key = k.kms_key_arn } } : {},
      k.secret_arn != null ? { secretsmanager = merge({ secret_id = k.secret_arn }, k.json_field != null ? { json_field = k.json_field } : {}) } : {},
      k.activate_at != null ? { activate_at = k.activate_at } : {},
      k.retire_at != null ? { retire_at = k.retire_at } : {},
    )]
    callers = [for c in var.callers : { for f, v in c : f => v if v != null }]
    }, local.links_on ? {
    links = merge({
      store = "dynamodb"
      table = aws_dynamodb_table.links.name
      keys  = [for id, _ in var.link_key_parameters : { id = id, env = local.link_env[id] }]
    }, var.links_base_url != null ? { base_url = var.links_base_url } : {})
  } : {}, var.extra_config)

  config_json = jsonencode(local.config)
  arn_prefix  = "arn:${data.aws_partition.current.partition}"
  param_arn   = "${local.arn_prefix}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter"
}

resource "aws_ssm_parameter" "config" {
  name        = "/${var.name}/config"
  description = "cfissuer serve config (key sources and caller hashes; no secrets)."
  type        = "String"
  tier        = length(local.config_json) > 4096 ? "Advanced" : "Standard"
  value       = local.config_json
  tags        = var.tags
}

resource "aws_ssm_parameter" "behaviors" {
  name        = "/${var.name}/behaviors"
  description = "cfissuer behaviors file (the distribution's issuer_config)."
  type        = "String"
  tier        = length(var.issuer_config) > 4096 ? "Advanced" : "Standard"
  value       = var.issuer_config
  tags        = var.tags
}

# tfsec:ignore:aws-dynamodb-enable-at-rest-encryption DynamoDB always encrypts at rest (AWS owned key); links hold no secret, only resources and expiries
# tfsec:ignore:aws-dynamodb-table-customer-key an AWS owned key is enough for link metadata; a CMK would add a KMS call to every follow
resource "aws_dynamodb_table" "links" {
  name         = "${var.name}-links"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}

# tfsec:ignore:aws-cloudwatch-log-group-customer-key the issuer logs resources, key IDs and grant IDs, never credentials or keys
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

# Least privilege: each statement names its resources; nothing is "*".
data "aws_iam_policy_document" "issuer" {
  statement {
    sid     = "Logs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    # tfsec:ignore:aws-iam-no-policy-wildcards the streams of the function's own log group, whose names Lambda makes
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid     = "ConfigParameters"
    actions = ["ssm:GetParameter"]
    resources = concat([aws_ssm_parameter.config.arn, aws_ssm_parameter.behaviors.arn],
    [for p in values(var.link_key_parameters) : "${local.param_arn}/${trimprefix(p, "/")}"])
  }

  dynamic "statement" {
    for_each = [for k in values(var.signing_keys) : k.kms_key_arn if k.kms_key_arn != null]
    content {
      sid       = "SignWithKMS${statement.key}"
      actions   = ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length([for k in values(var.signing_keys) : k if k.secret_arn != null]) > 0 ? [1] : []
    content {
      sid       = "ReadSigningSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [for k in values(var.signing_keys) : k.secret_arn if k.secret_arn != null]
    }
  }

  statement {
    sid       = "Links"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.links.arn]
  }

  dynamic "statement" {
    for_each = var.revocation_kvs_arn != null ? [var.revocation_kvs_arn] : []
    content {
      sid = "DenyList"
      # What denylist.KVS calls: the ETag, every entry (to keep a later expiry and sweep expired ones), one write.
      actions = ["cloudfront-keyvaluestore:DescribeKeyValueStore", "cloudfront-keyvaluestore:ListKeys",
      "cloudfront-keyvaluestore:UpdateKeys"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "issuer" {
  name   = "issuer"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.issuer.json
}

# tfsec:ignore:aws-lambda-enable-tracing X-Ray is optional; the issuer exports Prometheus metrics and structured logs
resource "aws_lambda_function" "this" {
  function_name    = var.name
  role             = aws_iam_role.this.arn
  filename         = var.package_file
  source_code_hash = filebase64sha256(var.package_file)
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.architecture]
  memory_size      = var.memory_size
  timeout          = var.timeout

  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    # Versioned parameter names: a config change updates the function, so no warm environment keeps the old one.
    variables = merge({
      CFISSUER_CONFIG    = "ssm:${aws_ssm_parameter.config.name}:${aws_ssm_parameter.config.version}"
      CFISSUER_BEHAVIORS = "ssm:${aws_ssm_parameter.behaviors.name}:${aws_ssm_parameter.behaviors.version}"
    }, { for id, p in var.link_key_parameters : local.link_env[id] => "ssm:${p}" })
  }

  logging_config {
    log_format = "Text" # the issuer writes JSON lines itself
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.issuer]
}

resource "aws_lambda_function_url" "this" {
  function_name      = aws_lambda_function.this.function_name
  authorization_type = var.function_url_auth_type
}
