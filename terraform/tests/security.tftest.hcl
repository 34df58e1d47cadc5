# The security properties of the module, on a mocked AWS provider (no network). Run from terraform/: terraform test.

mock_provider "aws" {
  mock_resource "aws_cloudfront_distribution" {
    defaults = {
      id          = "E2EXAMPLE0AAAA"
      arn         = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE0AAAA"
      domain_name = "d111111abcdef8.cloudfront.net"
    }
  }
  mock_resource "aws_cloudfront_key_value_store" {
    defaults = { arn = "arn:aws:cloudfront::123456789012:key-value-store/0b2c4e6a-1111-2222-3333-444455556666" }
  }
  mock_resource "aws_cloudfront_function" {
    defaults = { arn = "arn:aws:cloudfront::123456789012:function/cfissuer-deny" }
  }
  mock_resource "aws_cloudfront_public_key" {
    defaults = { id = "K2JCJMDEHXQW5F" }
  }
  mock_resource "aws_cloudfront_key_group" {
    defaults = { id = "0a1b2c3d-key-group" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      id                          = "cfissuer-origin-test"
      arn                         = "arn:aws:s3:::cfissuer-origin-test"
      bucket_regional_domain_name = "cfissuer-origin-test.s3.us-east-1.amazonaws.com"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-kms" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  aliases             = ["media.example.test"]
  acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-cert"
  public_keys         = { "2026-01" = file("examples/complete/keys/2026-01.pem") }
  behaviors = [
    {
      name            = "courses", path_pattern = "/courses/*", access = "signed-cookie", hash = "SHA256",
      browser_max_age = 60, window = 600, max_lifetime = 3600,
      cookie          = { same_site = "Lax" }, cors_origins = ["https://app.example.test"]
    },
    {
      name     = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", policy = "canned",
      edge_ttl = 604800, max_lifetime = 14400, cache_query_strings = ["response-content-disposition"]
    },
    {
      name            = "assets", path_pattern = "/assets/*", access = "signed-url",
      browser_max_age = 86400, edge_ttl = 2592000, window = 86400, margin = 3600, max_lifetime = 259200
    },
    { name = "default", path_pattern = "*", access = "signed-url" },
  ]
}

run "journeys" {
  command = apply

  # Order and signing.
  assert {
    condition     = [for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.path_pattern] == ["/courses/*", "/ebooks/*", "/assets/*"]
    error_message = "ordered cache behaviors must follow the behaviors list"
  }
  assert {
    condition = alltrue([
      for b in concat(aws_cloudfront_distribution.this.ordered_cache_behavior, aws_cloudfront_distribution.this.default_cache_behavior) :
      b.trusted_key_groups == tolist([aws_cloudfront_key_group.this[0].id])
    ])
    error_message = "every signed behavior, the default included, must trust the key group"
  }
  assert {
    condition     = aws_cloudfront_key_group.this[0].items == toset(["K2JCJMDEHXQW5F"])
    error_message = "the key group must hold the public key"
  }
  assert {
    condition = alltrue([
      for b in concat(aws_cloudfront_distribution.this.ordered_cache_behavior, aws_cloudfront_distribution.this.default_cache_behavior) :
      b.viewer_protocol_policy == "redirect-to-https" && b.compress && b.allowed_methods == toset(["GET", "HEAD"]) &&
      (b.origin_request_policy_id == null ? true : b.origin_request_policy_id == "")
    ])
    error_message = "every behavior: HTTPS only, compressed, GET/HEAD, no origin request policy"
  }

  # Cache keys: no cookies, no headers, only cache_query_strings.
  assert {
    condition = alltrue([
      for p in aws_cloudfront_cache_policy.this :
      p.parameters_in_cache_key_and_forwarded_to_origin[0].cookies_config[0].cookie_behavior == "none" &&
      p.parameters_in_cache_key_and_forwarded_to_origin[0].headers_config[0].header_behavior == "none"
    ])
    error_message = "no cookie and no header may be in a cache key (or reach S3)"
  }
  assert {
    condition = (
      aws_cloudfront_cache_policy.this["ebooks"].parameters_in_cache_key_and_forwarded_to_origin[0].query_strings_config[0].query_string_behavior == "whitelist" &&
      aws_cloudfront_cache_policy.this["ebooks"].parameters_in_cache_key_and_forwarded_to_origin[0].query_strings_config[0].query_strings[0].items == toset(["response-content-disposition"])
    )
    error_message = "ebooks must key on response-content-disposition only"
  }
  assert {
    condition = alltrue([
      for k in ["courses", "assets", "default"] :
      aws_cloudfront_cache_policy.this[k].parameters_in_cache_key_and_forwarded_to_origin[0].query_strings_config[0].query_string_behavior == "none"
    ])
    error_message = "behaviors without cache_query_strings must keep every query string (the signature) out of the key"
  }
  assert {
    condition = (
      aws_cloudfront_cache_policy.this["assets"].default_ttl == 2592000 && aws_cloudfront_cache_policy.this["assets"].max_ttl == 2592000 &&
      aws_cloudfront_cache_policy.this["assets"].min_ttl == 0 && aws_cloudfront_cache_policy.this["default"].max_ttl == 86400
    )
    error_message = "cache policy TTLs: default = max = edge_ttl (default 86400), min 0"
  }
  assert {
    condition = (
      aws_cloudfront_distribution.this.ordered_cache_behavior[1].cache_policy_id == aws_cloudfront_cache_policy.this["ebooks"].id &&
      aws_cloudfront_distribution.this.default_cache_behavior[0].cache_policy_id == aws_cloudfront_cache_policy.this["default"].id &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[0].response_headers_policy_id == aws_cloudfront_response_headers_policy.this["courses"].id
    )
    error_message = "each behavior must use its own cache and response headers policies"
  }

  # Response headers.
  assert {
    condition = (
      one(aws_cloudfront_response_headers_policy.this["courses"].custom_headers_config[0].items).value == "private, max-age=60" &&
      one(aws_cloudfront_response_headers_policy.this["ebooks"].custom_headers_config[0].items).value == "max-age=3600" &&
      one(aws_cloudfront_response_headers_policy.this["assets"].custom_headers_config[0].items).value == "max-age=86400"
    )
    error_message = "Cache-Control must be max-age=browser_max_age (private behind cookies)"
  }
  assert {
    condition = (
      aws_cloudfront_response_headers_policy.this["courses"].cors_config[0].access_control_allow_credentials &&
      aws_cloudfront_response_headers_policy.this["courses"].cors_config[0].access_control_allow_origins[0].items == toset(["https://app.example.test"]) &&
      length(aws_cloudfront_response_headers_policy.this["ebooks"].cors_config) == 0
    )
    error_message = "CORS with credentials for cors_origins only"
  }
  assert {
    condition = alltrue([
      for p in aws_cloudfront_response_headers_policy.this :
      p.security_headers_config[0].strict_transport_security[0].access_control_max_age_sec >= 31536000 &&
      p.security_headers_config[0].content_type_options[0].override
    ])
    error_message = "every behavior sends HSTS and nosniff"
  }

  # Bucket.
  assert {
    condition = (
      aws_s3_bucket_public_access_block.origin.block_public_acls && aws_s3_bucket_public_access_block.origin.block_public_policy &&
      aws_s3_bucket_public_access_block.origin.ignore_public_acls && aws_s3_bucket_public_access_block.origin.restrict_public_buckets &&
      aws_s3_bucket_ownership_controls.origin.rule[0].object_ownership == "BucketOwnerEnforced"
    )
    error_message = "the bucket must block all public access and enforce bucket ownership"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.origin.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "default encryption is SSE-S3"
  }
  assert {
    condition = jsondecode(aws_s3_bucket_policy.origin.policy).Statement[0] == {
      Sid       = "AllowThisDistributionOnly"
      Effect    = "Allow"
      Principal = { Service = "cloudfront.amazonaws.com" }
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3:::cfissuer-origin-test/*"
      Condition = { StringEquals = { "AWS:SourceArn" = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE0AAAA" } }
    }
    error_message = "only this distribution may read objects"
  }
  assert {
    condition = (
      jsondecode(aws_s3_bucket_policy.origin.policy).Statement[1].Effect == "Deny" &&
      jsondecode(aws_s3_bucket_policy.origin.policy).Statement[1].Condition == { Bool = { "aws:SecureTransport" = "false" } } &&
      length(jsondecode(aws_s3_bucket_policy.origin.policy).Statement) == 2
    )
    error_message = "non-TLS access must be denied, and nothing else allowed"
  }
  assert {
    condition = (
      aws_cloudfront_origin_access_control.origin.origin_access_control_origin_type == "s3" &&
      aws_cloudfront_origin_access_control.origin.signing_behavior == "always" &&
      aws_cloudfront_origin_access_control.origin.signing_protocol == "sigv4" &&
      [for o in aws_cloudfront_distribution.this.origin : o.origin_access_control_id] == [aws_cloudfront_origin_access_control.origin.id]
    )
    error_message = "the origin must use OAC: S3, SigV4, always sign"
  }
  assert {
    condition     = length(aws_s3_bucket_versioning.origin) == 0 && length(aws_kms_key.origin) == 0
    error_message = "versioning and SSE-KMS are off by default"
  }

  # Distribution.
  assert {
    condition = (
      aws_cloudfront_distribution.this.is_ipv6_enabled && aws_cloudfront_distribution.this.http_version == "http2and3" &&
      aws_cloudfront_distribution.this.aliases == toset(["media.example.test"]) &&
      aws_cloudfront_distribution.this.viewer_certificate[0].minimum_protocol_version == "TLSv1.2_2021" &&
      aws_cloudfront_distribution.this.viewer_certificate[0].ssl_support_method == "sni-only" &&
      !aws_cloudfront_distribution.this.viewer_certificate[0].cloudfront_default_certificate &&
      length(aws_cloudfront_distribution.this.logging_config) == 0
    )
    error_message = "distribution: IPv6 without IP binding, HTTP/2+3, alias with TLS 1.2 (2021), no logs by default"
  }
  assert {
    condition     = [for e in aws_cloudfront_distribution.this.custom_error_response : [e.error_code, e.error_caching_min_ttl]] == [[403, 0]]
    error_message = "403s must not be cached"
  }

  # Outputs.
  assert {
    condition     = output.public_key_ids == { "2026-01" = "K2JCJMDEHXQW5F" } && output.key_group_id == "0a1b2c3d-key-group"
    error_message = "key outputs"
  }
  assert {
    condition     = output.distribution_id == "E2EXAMPLE0AAAA" && output.bucket_name == "cfissuer-origin-test"
    error_message = "distribution and bucket outputs"
  }
  assert {
    condition = jsondecode(output.issuer_config) == {
      viewer_origin = "https://media.example.test"
      key_ids       = ["K2JCJMDEHXQW5F"]
      behaviors = [
        {
          name            = "courses", path_pattern = "/courses/*", access = "signed-cookie", policy = "custom", hash = "SHA256",
          browser_max_age = 60, edge_ttl = 86400, window = 600, margin = 300, max_lifetime = 3600, ip_binding = false,
          cookie          = { same_site = "Lax" }, cors_origins = ["https://app.example.test"]
        },
        {
          name                = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", policy = "canned",
          browser_max_age     = 3600, edge_ttl = 604800, window = 3600, margin = 300, max_lifetime = 14400, ip_binding = false,
          cache_query_strings = ["response-content-disposition"]
        },
        {
          name            = "assets", path_pattern = "/assets/*", access = "signed-url", policy = "canned",
          browser_max_age = 86400, edge_ttl = 2592000, window = 86400, margin = 3600, max_lifetime = 259200, ip_binding = false
        },
        {
          name            = "default", path_pattern = "*", access = "signed-url", policy = "canned",
          browser_max_age = 3600, edge_ttl = 86400, window = 3600, margin = 300, max_lifetime = 86400, ip_binding = false
        },
      ]
    }
    error_message = "issuer_config must be the behaviors file with defaults written out, viewer_origin and key_ids"
  }
}

run "ip_binding_disables_ipv6" {
  command = apply
  variables {
    behaviors = [
      { name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", ip_binding = true },
      { name = "default", path_pattern = "*", access = "signed-url" },
    ]
  }
  assert {
    condition     = !aws_cloudfront_distribution.this.is_ipv6_enabled
    error_message = "CloudFront's IP condition is IPv4 only: IPv6 must be off when a behavior binds IPs"
  }
  assert {
    condition     = jsondecode(output.issuer_config).behaviors[0].ip_binding
    error_message = "issuer_config must carry ip_binding"
  }
}

run "public_default_is_explicit" {
  command = apply
  variables {
    behaviors = [
      { name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url" },
      { name = "site", path_pattern = "*", access = "public", browser_max_age = 300 },
    ]
  }
  assert {
    condition = (
      length(aws_cloudfront_distribution.this.default_cache_behavior[0].trusted_key_groups) == 0 &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[0].trusted_key_groups == tolist([aws_cloudfront_key_group.this[0].id])
    )
    error_message = "only a behavior made public on purpose goes without the key group"
  }
  assert {
    condition = jsondecode(output.issuer_config).behaviors[1] == {
      name = "site", path_pattern = "*", access = "public", browser_max_age = 300, edge_ttl = 86400
    }
    error_message = "a public behavior carries no signed-only fields in issuer_config"
  }
}

run "sse_kms_only_for_this_distribution" {
  command = apply
  variables {
    kms_encryption = true
    versioning     = true
  }
  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.origin.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      one(aws_s3_bucket_server_side_encryption_configuration.origin.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == aws_kms_key.origin[0].arn &&
      aws_kms_key.origin[0].enable_key_rotation
    )
    error_message = "SSE-KMS with the module's rotating key"
  }
  assert {
    condition = jsondecode(aws_kms_key_policy.origin[0].policy).Statement[1] == {
      Sid       = "ThisDistributionDecrypts"
      Effect    = "Allow"
      Principal = { Service = "cloudfront.amazonaws.com" }
      Action    = "kms:Decrypt"
      Resource  = "*"
      Condition = { StringEquals = { "AWS:SourceArn" = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE0AAAA" } }
    }
    error_message = "CloudFront may only decrypt, and only for this distribution"
  }
  assert {
    condition     = jsondecode(aws_kms_key_policy.origin[0].policy).Statement[0].Principal == { AWS = "arn:aws:iam::123456789012:root" }
    error_message = "the account keeps administering the key"
  }
  assert {
    condition     = aws_s3_bucket_versioning.origin[0].versioning_configuration[0].status == "Enabled"
    error_message = "versioning = true enables versioning"
  }
}

run "pem_whitespace_keeps_the_key" {
  command = apply
  variables {
    # CRLF line endings, indentation, blank lines and 76-column lines: the same key.
    public_keys = {
      "2026-01" = format("\r\n  %s\r\n\r\n", replace(replace(file("examples/complete/keys/2026-01.pem"), "\n", ""), "/([A-Za-z0-9+/=]{76})/", "$1\r\n    "))
    }
  }
  assert {
    condition     = aws_cloudfront_public_key.this["2026-01"].encoded_key == file("examples/complete/keys/2026-01.pem")
    error_message = "a whitespace difference must give the same encoded_key (a new one would force a new key)"
  }
  assert {
    condition     = aws_cloudfront_public_key.this["2026-01"].name == "cfissuer-2026-01-${substr(sha256(file("examples/complete/keys/2026-01.pem")), 0, 8)}"
    error_message = "the key name must not change with whitespace either"
  }
}

run "access_logs_without_cookies" {
  command = apply
  variables {
    access_logs = { bucket = "logs.s3.amazonaws.com", prefix = "cdn/" }
  }
  assert {
    condition = (
      aws_cloudfront_distribution.this.logging_config[0].bucket == "logs.s3.amazonaws.com" &&
      aws_cloudfront_distribution.this.logging_config[0].prefix == "cdn/" &&
      !aws_cloudfront_distribution.this.logging_config[0].include_cookies
    )
    error_message = "access logs must never include cookies (they are credentials)"
  }
}

run "signed_urls_without_aliases" {
  command = apply
  variables {
    aliases             = []
    acm_certificate_arn = null
    behaviors           = [{ name = "default", path_pattern = "*", access = "signed-url" }]
  }
  assert {
    condition = (
      aws_cloudfront_distribution.this.viewer_certificate[0].cloudfront_default_certificate &&
      aws_cloudfront_distribution.this.viewer_certificate[0].acm_certificate_arn == null
    )
    error_message = "without aliases the distribution uses its default certificate"
  }
  assert {
    condition     = output.viewer_origin == "https://d111111abcdef8.cloudfront.net"
    error_message = "without aliases the viewer origin is the distribution's own domain"
  }
}

run "all_public_needs_no_keys" {
  command = apply
  variables {
    public_keys = {}
    behaviors   = [{ name = "site", path_pattern = "*", access = "public" }]
  }
  assert {
    condition     = length(aws_cloudfront_key_group.this) == 0 && output.key_group_id == null && jsondecode(output.issuer_config).key_ids == []
    error_message = "no key group without keys"
  }
}
