locals {
  origin_id = "s3"

  # The last behavior ("*", checked by the variable's validation) is the default cache behavior; the others are ordered
  # cache behaviors in the file's order, because CloudFront's first match wins.
  default_behavior  = var.behaviors[length(var.behaviors) - 1]
  ordered_behaviors = slice(var.behaviors, 0, length(var.behaviors) - 1)
  behaviors_by_name = { for b in var.behaviors : b.name => b }

  signed_access = ["signed-url", "signed-cookie"]
  any_signed    = anytrue([for b in var.behaviors : contains(local.signed_access, b.access)])

  # CloudFront's IpAddress condition matches IPv4 viewers only: an IPv6 viewer could never use an IP-bound grant.
  ipv6_enabled = !anytrue([for b in var.behaviors : coalesce(b.ip_binding, false)])

  # CloudFront public keys are immutable and encoded_key forces a new key: reduce each PEM to its base64 body and
  # re-wrap it at 64 columns, so line endings, indentation, blank lines or another line width change nothing.
  pem_bodies = {
    for k, pem in var.public_keys : k => replace(replace(replace(pem, "-----BEGIN PUBLIC KEY-----", ""), "-----END PUBLIC KEY-----", ""), "/\\s+/", "")
  }
  public_keys = {
    for k, body in local.pem_bodies : k => format(
      "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n",
      join("\n", [for i in range(0, length(body), 64) : substr(body, i, 64)])
    )
  }

  has_aliases = length(var.aliases) > 0
  bucket_arn  = aws_s3_bucket.origin.arn
}

# ------------------------------------------------------------------------------------------------------------ bucket

# tfsec:ignore:aws-s3-enable-bucket-logging Only CloudFront reads this bucket (the policy below); viewer requests are logged by the distribution (var.access_logs).
# tfsec:ignore:aws-s3-enable-versioning Versioning is the user's choice (var.versioning): the content is published from elsewhere and can be published again.
resource "aws_s3_bucket" "origin" {
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? "${var.name}-origin-" : null
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "origin" {
  bucket                  = aws_s3_bucket.origin.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "origin" {
  bucket = aws_s3_bucket.origin.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# SSE-S3 by default (no key to manage or pay for); kms_encryption = true for SSE-KMS.
resource "aws_s3_bucket_server_side_encryption_configuration" "origin" {
  bucket = aws_s3_bucket.origin.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_encryption ? "aws:kms" : "AES256"
      kms_master_key_id = var.kms_encryption ? aws_kms_key.origin[0].arn : null
    }
    bucket_key_enabled = var.kms_encryption
  }
}

resource "aws_s3_bucket_versioning" "origin" {
  count  = var.versioning ? 1 : 0
  bucket = aws_s3_bucket.origin.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_policy" "origin" {
  bucket = aws_s3_bucket.origin.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowThisDistributionOnly"
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = "s3:GetObject"
        Resource  = "${local.bucket_arn}/*"
        Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.this.arn } }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  # A bucket policy with a service principal counts as public to the block until the block exists.
  depends_on = [aws_s3_bucket_public_access_block.origin]
}

# --------------------------------------------------------------------------------------------------- optional SSE-KMS

data "aws_partition" "current" {
  count = var.kms_encryption ? 1 : 0
}

data "aws_caller_identity" "current" {
  count = var.kms_encryption ? 1 : 0
}

resource "aws_kms_key" "origin" {
  count                   = var.kms_encryption ? 1 : 0
  description             = "${var.name}: origin bucket objects, decrypted by CloudFront OAC"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  tags                    = var.tags
}

# A separate resource because the policy names the distribution, which names the bucket, which names the key.
resource "aws_kms_key_policy" "origin" {
  count  = var.kms_encryption ? 1 : 0
  key_id = aws_kms_key.origin[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current[0].partition}:iam::${data.aws_caller_identity.current[0].account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "ThisDistributionDecrypts"
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = "kms:Decrypt"
        Resource  = "*"
        Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.this.arn } }
      },
    ]
  })
}

# ------------------------------------------------------------------------------------------------------ OAC and keys

resource "aws_cloudfront_origin_access_control" "origin" {
  name                              = "${var.name}-origin"
  description                       = "${var.name}: CloudFront signs every request to the origin bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# Rotation (CLOUDFRONT.md §4): adding a key creates it and then updates the key group in place. Removing one must update
# the group before deleting the key, or CloudFront refuses with PublicKeyInUse; by default Terraform deletes first, and
# create_before_destroy reverses that order for this resource's deletions. The name carries a digest of the key, so a
# different key under the same map name is a new key (created first, under its own name) rather than a name clash.
resource "aws_cloudfront_public_key" "this" {
  for_each    = local.public_keys
  name        = "${var.name}-${each.key}-${substr(sha256(each.value), 0, 8)}"
  comment     = "${var.name}: cfissuer signing key ${each.key}"
  encoded_key = each.value

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudfront_key_group" "this" {
  count   = length(local.public_keys) > 0 ? 1 : 0
  name    = "${var.name}-signers"
  comment = "${var.name}: keys cfissuer signs with"
  items   = [for k in sort(keys(local.public_keys)) : aws_cloudfront_public_key.this[k].id]
}

# ---------------------------------------------------------------------------------------------- revocation (deny list)

# The deny list (docs/REVOCATION.md): the issuer writes revoked grant and subject IDs to the KeyValueStore, and the
# function, associated with every signed behavior's viewer-request event, answers 403 for them. The function is the
# file the local edge runs (edge/cffunc), byte for byte. It only ever denies, so it holds whether CloudFront runs it
# before or after the signature check.
locals {
  revocation = var.revocation && local.any_signed
}

resource "aws_cloudfront_key_value_store" "deny" {
  count   = local.revocation ? 1 : 0
  name    = "${var.name}-deny"
  comment = "${var.name}: revoked grants and subjects, written by cfissuer, read by the ${var.name}-deny function"
}

resource "aws_cloudfront_function" "deny" {
  count                        = local.revocation ? 1 : 0
  name                         = "${var.name}-deny"
  runtime                      = "cloudfront-js-2.0"
  comment                      = "${var.name}: 403 for revoked grants and subjects (cfissuer deny list)"
  publish                      = true
  code                         = file("${path.module}/functions/deny.js")
  key_value_store_associations = [aws_cloudfront_key_value_store.deny[0].arn]
}

# ---------------------------------------------------------------------------------------- per-behavior cache settings

# Only cache_query_strings are in the cache key, so signing parameters (Expires, Signature, Policy, Key-Pair-Id) never
# are: every viewer of a window shares one cached object. No cookies and no headers either; what is in the key is also
# what reaches S3, so cookies (the signed-cookie credentials) never leave CloudFront.
#
# create_before_destroy here and on the response headers policies: when a behavior is removed, the distribution stops
# using its policies before they are deleted (CloudFront refuses to delete a policy in use).
resource "aws_cloudfront_cache_policy" "this" {
  for_each    = local.behaviors_by_name
  name        = "${var.name}-${each.key}"
  comment     = "${var.name} ${each.value.path_pattern}: edge TTL ${each.value.edge_ttl}s"
  min_ttl     = 0
  default_ttl = each.value.edge_ttl
  max_ttl     = each.value.edge_ttl

  parameters_in_cache_key_and_forwarded_to_origin {
    # CloudFront refuses Accept-Encoding in the key when caching is disabled.
    enable_accept_encoding_gzip   = each.value.edge_ttl > 0
    enable_accept_encoding_brotli = each.value.edge_ttl > 0

    cookies_config {
      cookie_behavior = "none"
    }
    headers_config {
      header_behavior = "none"
    }
    query_strings_config {
      query_string_behavior = length(each.value.cache_query_strings) > 0 ? "whitelist" : "none"
      dynamic "query_strings" {
        for_each = length(each.value.cache_query_strings) > 0 ? [each.value.cache_query_strings] : []
        content {
          items = query_strings.value
        }
      }
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudfront_response_headers_policy" "this" {
  for_each = local.behaviors_by_name
  name     = "${var.name}-${each.key}"
  comment  = "${var.name} ${each.value.path_pattern}: Cache-Control max-age=${each.value.browser_max_age}"

  # The browser keeps a response for browser_max_age (M); the issuer's expiry windows guarantee a URL outlives that.
  # Behind signed cookies the response must not sit in a shared cache that would hand it to viewers without cookies.
  custom_headers_config {
    items {
      header   = "Cache-Control"
      value    = each.value.access == "signed-cookie" ? "private, max-age=${each.value.browser_max_age}" : "max-age=${each.value.browser_max_age}"
      override = true
    }
  }

  # Players on another site fetch with credentials (cookies), so origins are listed, never '*'. CloudFront adds these
  # to its own 403 too, so a player can tell "expired" from a CORS failure.
  dynamic "cors_config" {
    for_each = length(each.value.cors_origins) > 0 ? [each.value.cors_origins] : []
    content {
      access_control_allow_credentials = true
      access_control_max_age_sec       = 600
      origin_override                  = true
      access_control_allow_origins {
        items = cors_config.value
      }
      access_control_allow_methods {
        items = ["GET", "HEAD"]
      }
      access_control_allow_headers {
        items = ["Range"]
      }
      access_control_expose_headers {
        items = ["Content-Length", "Content-Range", "ETag"]
      }
    }
  }

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = false
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

# ------------------------------------------------------------------------------------------------------ distribution

# tfsec:ignore:aws-cloudfront-enable-logging Access logs need a log bucket with ACLs, which this module does not own; set var.access_logs.
# tfsec:ignore:aws-cloudfront-use-secure-tls-policy TLSv1.2_2021 is set whenever aliases are; without aliases CloudFront's default certificate allows no minimum version (and signed cookies require aliases).
resource "aws_cloudfront_distribution" "this" {
  enabled             = true
  comment             = "${var.name}: private content signed by cfissuer"
  aliases             = var.aliases
  http_version        = "http2and3"
  is_ipv6_enabled     = local.ipv6_enabled
  price_class         = var.price_class
  web_acl_id          = var.web_acl_id
  wait_for_deployment = var.wait_for_deployment
  tags                = var.tags

  origin {
    origin_id                = local.origin_id
    domain_name              = aws_s3_bucket.origin.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.origin.id
  }

  default_cache_behavior {
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.this[local.default_behavior.name].id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this[local.default_behavior.name].id
    trusted_key_groups         = contains(local.signed_access, local.default_behavior.access) ? [aws_cloudfront_key_group.this[0].id] : []

    dynamic "function_association" {
      for_each = local.revocation && contains(local.signed_access, local.default_behavior.access) ? [aws_cloudfront_function.deny[0].arn] : []
      content {
        event_type   = "viewer-request"
        function_arn = function_association.value
      }
    }
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.ordered_behaviors
    iterator = b
    content {
      path_pattern               = b.value.path_pattern
      target_origin_id           = local.origin_id
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["GET", "HEAD"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = aws_cloudfront_cache_policy.this[b.value.name].id
      response_headers_policy_id = aws_cloudfront_response_headers_policy.this[b.value.name].id
      trusted_key_groups         = contains(local.signed_access, b.value.access) ? [aws_cloudfront_key_group.this[0].id] : []

      dynamic "function_association" {
        for_each = local.revocation && contains(local.signed_access, b.value.access) ? [aws_cloudfront_function.deny[0].arn] : []
        content {
          event_type   = "viewer-request"
          function_arn = function_association.value
        }
      }
    }
  }

  # A 403 (expired or missing signature) must not be cached: the next request, with a fresh grant, has to reach the check.
  custom_error_response {
    error_code            = 403
    error_caching_min_ttl = 0
  }

  dynamic "logging_config" {
    for_each = var.access_logs == null ? [] : [var.access_logs]
    content {
      bucket          = logging_config.value.bucket
      prefix          = logging_config.value.prefix
      include_cookies = false # signed cookies are bearer credentials
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = !local.has_aliases
    acm_certificate_arn            = local.has_aliases ? var.acm_certificate_arn : null
    ssl_support_method             = local.has_aliases ? "sni-only" : null
    minimum_protocol_version       = local.has_aliases ? "TLSv1.2_2021" : "TLSv1"
  }
}

# ----------------------------------------------------------------------------------------------------- issuer_config

locals {
  viewer_origin = "https://${local.has_aliases ? var.aliases[0] : aws_cloudfront_distribution.this.domain_name}"

  # The behaviors file again, in the form policy.Behavior's MarshalJSON writes: defaults written out, signed-only
  # fields only on signed behaviors, and no nulls (the schema has none). hash stays unset unless given: its default
  # depends on the key type and is decided by the issuer.
  issuer_behaviors = [
    for b in var.behaviors : {
      for k, v in {
        name            = b.name
        path_pattern    = b.path_pattern
        access          = b.access
        browser_max_age = b.browser_max_age
        edge_ttl        = b.edge_ttl
        policy          = b.access == "public" ? null : coalesce(b.policy, b.access == "signed-cookie" ? "custom" : "canned")
        hash            = b.hash
        window          = b.access == "public" ? null : b.window
        margin          = b.access == "public" ? null : b.margin
        max_lifetime    = b.access == "public" ? null : b.max_lifetime
        ip_binding      = b.access == "public" ? null : coalesce(b.ip_binding, false)
        cookie = b.access != "signed-cookie" ? null : {
          for ck, cv in {
            domain    = try(b.cookie.domain, null)
            same_site = try(coalesce(b.cookie.same_site, "Lax"), "Lax")
          } : ck => cv if cv != null
        }
        cors_origins        = length(b.cors_origins) > 0 ? b.cors_origins : null
        cache_query_strings = length(b.cache_query_strings) > 0 ? b.cache_query_strings : null
      } : k => v if v != null
    }
  ]

  issuer_config = {
    viewer_origin = local.viewer_origin
    key_ids       = [for k in sort(keys(local.public_keys)) : aws_cloudfront_public_key.this[k].id]
    behaviors     = local.issuer_behaviors
  }
}
