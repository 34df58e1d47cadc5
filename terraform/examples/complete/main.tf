# The three journeys of examples/behaviors.json (signed cookies for /courses/*, signed URLs for /ebooks/* and
# /assets/*, a signed default), from the same file the issuer reads.

provider "aws" {
  # CloudFront certificates live in us-east-1; the bucket may too.
  region = "us-east-1"
}

locals {
  behaviors_file = jsondecode(file("${path.module}/../../../examples/behaviors.json"))
  # The viewer origin's host is the alternate domain name, so the file and the distribution agree.
  domain = regex("^https?://([^:/]+)", local.behaviors_file.viewer_origin)[0]
}

module "cfissuer" {
  source = "../.."

  name                = var.name
  behaviors           = local.behaviors_file.behaviors
  public_keys         = coalesce(var.public_keys, { "2026-01" = file("${path.module}/keys/2026-01.pem") })
  aliases             = [local.domain]
  acm_certificate_arn = var.acm_certificate_arn
  kms_encryption      = true
  versioning          = true
  tags                = { Project = "cfissuer-example" }
}
