# Revocation (docs/REVOCATION.md) on a mocked AWS provider: the deny-list KeyValueStore, the function that ships
# functions/deny.js byte for byte, its viewer-request association on every signed behavior and on no public one,
# and the output the issuer's write permission is built from. Run from terraform/: terraform test.

mock_provider "aws" {
  mock_resource "aws_cloudfront_distribution" {
    defaults = {
      id          = "E2EXAMPLE0AAAA"
      arn         = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE0AAAA"
      domain_name = "d111111abcdef8.cloudfront.net"
    }
  }
  mock_resource "aws_cloudfront_public_key" {
    defaults = { id = "K2JCJMDEHXQW5F" }
  }
  mock_resource "aws_cloudfront_key_group" {
    defaults = { id = "0a1b2c3d-key-group" }
  }
  mock_resource "aws_cloudfront_key_value_store" {
    defaults = { arn = "arn:aws:cloudfront::123456789012:key-value-store/0b2c4e6a-1111-2222-3333-444455556666" }
  }
  mock_resource "aws_cloudfront_function" {
    defaults = { arn = "arn:aws:cloudfront::123456789012:function/cfissuer-deny" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      id                          = "cfissuer-origin-test"
      arn                         = "arn:aws:s3:::cfissuer-origin-test"
      bucket_regional_domain_name = "cfissuer-origin-test.s3.us-east-1.amazonaws.com"
    }
  }
}

variables {
  aliases             = ["media.example.test"]
  acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-cert"
  public_keys         = { "2026-01" = file("examples/complete/keys/2026-01.pem") }
  behaviors = [
    { name = "courses", path_pattern = "/courses/*", access = "signed-cookie", browser_max_age = 60, window = 600, max_lifetime = 3600 },
    { name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url" },
    { name = "public", path_pattern = "/public/*", access = "public" },
    { name = "default", path_pattern = "*", access = "signed-url" },
  ]
}

run "on_by_default" {
  command = apply

  assert {
    condition     = aws_cloudfront_function.deny[0].code == file("functions/deny.js")
    error_message = "the function must ship functions/deny.js, the file the local edge runs, byte for byte"
  }
  assert {
    condition     = length(aws_cloudfront_function.deny[0].code) <= 10240
    error_message = "CloudFront Functions code is limited to 10 KB"
  }
  assert {
    condition     = aws_cloudfront_function.deny[0].runtime == "cloudfront-js-2.0" && aws_cloudfront_function.deny[0].publish
    error_message = "the function must be cloudfront-js-2.0 (KeyValueStore access) and published (LIVE is what viewers run)"
  }
  assert {
    condition     = aws_cloudfront_function.deny[0].key_value_store_associations == toset([aws_cloudfront_key_value_store.deny[0].arn])
    error_message = "the function must read the deny-list store, and only it"
  }
  assert {
    condition = [
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : [for f in b.function_association : [f.event_type, f.function_arn]]
      ] == [
      [["viewer-request", "arn:aws:cloudfront::123456789012:function/cfissuer-deny"]],
      [["viewer-request", "arn:aws:cloudfront::123456789012:function/cfissuer-deny"]],
      [],
    ]
    error_message = "every signed ordered behavior (courses, ebooks) runs the function on viewer-request; the public one does not"
  }
  assert {
    condition     = [for f in one(aws_cloudfront_distribution.this.default_cache_behavior).function_association : f.event_type] == ["viewer-request"]
    error_message = "the signed default behavior runs the function on viewer-request"
  }
  assert {
    condition     = output.revocation_kvs_arn == "arn:aws:cloudfront::123456789012:key-value-store/0b2c4e6a-1111-2222-3333-444455556666"
    error_message = "revocation_kvs_arn must be the store's ARN (the issuer's revocation.kvs_arn)"
  }
  assert {
    condition     = output.revocation_function_arn == aws_cloudfront_function.deny[0].arn
    error_message = "revocation_function_arn must be the function's ARN"
  }
}

run "off" {
  command = plan
  variables {
    revocation = false
  }

  assert {
    condition     = length(aws_cloudfront_function.deny) == 0 && length(aws_cloudfront_key_value_store.deny) == 0
    error_message = "revocation = false creates no function and no store"
  }
  assert {
    condition     = alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : length(b.function_association) == 0])
    error_message = "revocation = false associates no function"
  }
  assert {
    condition     = output.revocation_kvs_arn == null
    error_message = "revocation_kvs_arn is null when revocation is off"
  }
}

run "nothing_signed" {
  command = plan
  variables {
    public_keys         = {}
    aliases             = []
    acm_certificate_arn = null
    behaviors           = [{ name = "site", path_pattern = "*", access = "public" }]
  }

  assert {
    condition     = length(aws_cloudfront_function.deny) == 0 && length(aws_cloudfront_key_value_store.deny) == 0
    error_message = "with no signed behavior there is nothing to revoke: no function, no store"
  }
}
