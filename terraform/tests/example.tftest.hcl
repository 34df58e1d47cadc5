# examples/complete on a mocked provider: the journeys of examples/behaviors.json become the distribution, and the
# issuer_config output names the same viewer origin as the file. (The Go tests in internal/tftest apply the same
# example against moto and load issuer_config with the real loader.)

mock_provider "aws" {
  mock_resource "aws_cloudfront_key_value_store" {
    defaults = { arn = "arn:aws:cloudfront::123456789012:key-value-store/0b2c4e6a-1111-2222-3333-444455556666" }
  }
  mock_resource "aws_cloudfront_function" {
    defaults = { arn = "arn:aws:cloudfront::123456789012:function/cfissuer-deny" }
  }
  mock_resource "aws_cloudfront_public_key" {
    defaults = { id = "K2JCJMDEHXQW5F" }
  }
  mock_resource "aws_cloudfront_distribution" {
    defaults = { arn = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE0AAAA" }
  }
}

run "complete" {
  command = apply
  module {
    source = "./examples/complete"
  }
  variables {
    acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-cert"
  }

  assert {
    condition     = jsondecode(output.issuer_config).viewer_origin == jsondecode(file("../examples/behaviors.json")).viewer_origin
    error_message = "the example's alias must be the viewer origin of examples/behaviors.json"
  }
  assert {
    condition = (
      [for b in jsondecode(output.issuer_config).behaviors : [b.name, b.path_pattern, b.access]] ==
      [for b in jsondecode(file("../examples/behaviors.json")).behaviors : [b.name, b.path_pattern, b.access]]
    )
    error_message = "issuer_config must list the file's behaviors in the file's order"
  }
  assert {
    condition     = jsondecode(output.issuer_config).key_ids == [output.public_key_ids["2026-01"]]
    error_message = "issuer_config must name the example key"
  }
}
