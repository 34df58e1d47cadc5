# Mocked provider: no AWS account, no credentials; an apply creates nothing.
mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/issuer-test" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/issuer-test" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/issuer-test-links" }
  }
  mock_resource "aws_ssm_parameter" {
    defaults = { arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/issuer-test/config", version = 1 }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:issuer-test" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

variables {
  name          = "issuer-test"
  package_file  = "tests/fixtures/bootstrap.zip"
  issuer_config = "{\"viewer_origin\":\"https://media.example.com\",\"key_ids\":[\"K2JCJMDEHXQW5F\"],\"behaviors\":[{\"name\":\"site\",\"path_pattern\":\"*\",\"access\":\"public\"}]}"
  signing_keys = {
    K2JCJMDEHXQW5F = { kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }
  callers = [{ id = "app", secret_sha256 = "1df4b07d05b9b3b1115b4b6b22af319a2f99564a2fa2573a34896063c7513c10", behaviors = ["site"] }]
}

run "lambda_shape" {
  command = apply # mocked: nothing is created
  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "the function must run the static binary as bootstrap on provided.al2023"
  }
  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "arm64 by default"
  }
  assert {
    condition     = aws_lambda_function_url.this.authorization_type == "NONE"
    error_message = "the Function URL is public by default: the issuer checks its own API keys"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_cloudwatch_log_group.this.name == "/aws/lambda/issuer-test"
    error_message = "the function's log group keeps 30 days by default"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/issuer-test"
    error_message = "the function logs to the module's log group"
  }
}

run "links_table" {
  command = apply # mocked: nothing is created
  assert {
    condition     = aws_dynamodb_table.links.hash_key == "id" && aws_dynamodb_table.links.billing_mode == "PAY_PER_REQUEST"
    error_message = "links table: partition key id (links.AttrID), on demand"
  }
  assert {
    condition     = one(aws_dynamodb_table.links.ttl).attribute_name == "expires_ttl" && one(aws_dynamodb_table.links.ttl).enabled
    error_message = "links table: TTL on expires_ttl (links.AttrTTL)"
  }
  assert {
    condition     = one(aws_dynamodb_table.links.point_in_time_recovery).enabled
    error_message = "links table: point-in-time recovery"
  }
}

run "least_privilege_kms" {
  command = apply # mocked: nothing is created
  assert {
    condition     = toset([for s in data.aws_iam_policy_document.issuer.statement : s.sid]) == toset(["Logs", "ConfigParameters", "SignWithKMS0", "Links"])
    error_message = "with one KMS key and no revocation: logs, parameters, that key and the links table, nothing else"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.issuer.statement : !contains(s.resources, "*")])
    error_message = "no statement may name every resource"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.issuer.statement : s.resources if s.sid == "SignWithKMS0"]) == toset(["arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"])
    error_message = "kms:Sign on the one key only"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.issuer.statement : s.actions if s.sid == "Links"]) == toset(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"])
    error_message = "the links store needs GetItem, PutItem and UpdateItem, nothing else"
  }
  assert {
    condition     = !can(jsondecode(local.config_json).links)
    error_message = "without link keys, links are off in the config"
  }
}

run "secret_links_and_revocation" {
  command = apply # mocked: nothing is created
  variables {
    signing_keys = {
      K2JCJMDEHXQW5F = { secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cf-signing-AbCdEf", json_field = "private_key" }
    }
    link_key_parameters = { l1 = "/issuer-test/link-key-1" }
    links_base_url      = "https://issuer.example.com"
    revocation_kvs_arn  = "arn:aws:cloudfront::123456789012:key-value-store/0123abcd-0000-1111-2222-333344445555"
  }
  assert {
    condition     = toset([for s in data.aws_iam_policy_document.issuer.statement : s.sid]) == toset(["Logs", "ConfigParameters", "ReadSigningSecrets", "Links", "DenyList"])
    error_message = "a secret key, links and revocation: no KMS statement, a secrets and a deny-list statement"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.issuer.statement : s.resources if s.sid == "DenyList"]) == toset(["arn:aws:cloudfront::123456789012:key-value-store/0123abcd-0000-1111-2222-333344445555"])
    error_message = "write access to the one KeyValueStore only"
  }
  assert {
    condition     = contains(one([for s in data.aws_iam_policy_document.issuer.statement : s.resources if s.sid == "ConfigParameters"]), "arn:aws:ssm:eu-west-1:123456789012:parameter/issuer-test/link-key-1")
    error_message = "the role reads the link key parameter"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["CFISSUER_LINK_KEY_L1"] == "ssm:/issuer-test/link-key-1"
    error_message = "the link key reaches the function as an ssm: reference, never as a value"
  }
  assert {
    condition = jsondecode(local.config_json).links == {
      store = "dynamodb", table = "issuer-test-links", base_url = "https://issuer.example.com",
      keys  = [{ id = "l1", env = "CFISSUER_LINK_KEY_L1" }]
    }
    error_message = "links in the config: the module's table, the base URL and the key's variable"
  }
  assert {
    condition     = jsondecode(local.config_json).keys == [{ id = "K2JCJMDEHXQW5F", secretsmanager = { secret_id = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cf-signing-AbCdEf", json_field = "private_key" } }]
    error_message = "the key source in the config is the secret"
  }
}

run "refuses_a_key_with_two_sources" {
  command = plan
  variables {
    signing_keys = {
      K2JCJMDEHXQW5F = { kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/x", secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:y" }
    }
  }
  expect_failures = [var.signing_keys]
}

run "refuses_a_bad_caller_hash" {
  command = plan
  variables {
    callers = [{ id = "app", secret_sha256 = "not-a-hash" }]
  }
  expect_failures = [var.callers]
}
