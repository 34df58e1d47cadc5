# One run per validation block: each changes one thing in a valid configuration and expects that variable to fail.
# A case that stopped failing (a validation removed or loosened) fails the test.

mock_provider "aws" {}

variables {
  aliases             = ["media.example.test"]
  acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-cert"
  public_keys         = { "2026-01" = file("examples/complete/keys/2026-01.pem") }
  behaviors = [
    { name = "courses", path_pattern = "/courses/*", access = "signed-cookie", cors_origins = ["https://app.example.test"] },
    { name = "default", path_pattern = "*", access = "signed-url" },
  ]
}

run "valid_baseline" {
  command = plan
}

run "behaviors_empty" {
  command = plan
  variables {
    behaviors = []
  }
  expect_failures = [var.behaviors]
}

run "default_not_last" {
  command = plan
  variables {
    behaviors = [{ name = "default", path_pattern = "*", access = "signed-url" }, { name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "no_default" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "too_many_behaviors" {
  command = plan
  variables {
    behaviors = concat([for i in range(26) : { name = "b${i}", path_pattern = "/b${i}/*", access = "signed-url" }], [{ name = "default", path_pattern = "*", access = "signed-url" }])
  }
  expect_failures = [var.behaviors]
}

run "name_upper_case" {
  command = plan
  variables {
    behaviors = [{ name = "Ebooks", path_pattern = "/ebooks/*", access = "signed-url" }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "name_duplicate" {
  command = plan
  variables {
    behaviors = [{ name = "default", path_pattern = "/ebooks/*", access = "signed-url" }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "path_pattern_bad_character" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/%20*", access = "signed-url" }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "path_pattern_duplicate_without_slash" {
  command = plan
  variables {
    behaviors = [{ name = "a", path_pattern = "/ebooks/*", access = "signed-url" }, { name = "b", path_pattern = "ebooks/*", access = "signed-url" }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "access_unknown" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed" }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "policy_unknown" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", policy = "both" }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "cookie_with_canned_policy" {
  command = plan
  variables {
    behaviors = [{ name = "courses", path_pattern = "/courses/*", access = "signed-cookie", policy = "canned" }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "hash_unknown" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", hash = "MD5" }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "edge_ttl_negative" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", edge_ttl = -1 }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "browser_max_age_fractional" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", browser_max_age = 1.5 }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "window_zero" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", window = 0 }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "lifetime_shorter_than_window" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", browser_max_age = 3600, margin = 300, window = 3600, max_lifetime = 7199 }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "public_with_hash" {
  command = plan
  variables {
    behaviors = [{ name = "site", path_pattern = "*", access = "public", hash = "SHA256" }]
  }
  expect_failures = [var.behaviors]
}

run "public_with_ip_binding" {
  command = plan
  variables {
    behaviors = [{ name = "site", path_pattern = "*", access = "public", ip_binding = false }]
  }
  expect_failures = [var.behaviors]
}

run "cookie_on_signed_url" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", cookie = { same_site = "Lax" } }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "same_site_unknown" {
  command = plan
  variables {
    behaviors = [{ name = "courses", path_pattern = "/courses/*", access = "signed-cookie", cookie = { same_site = "lax" } }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "cookie_domain_cloudfront" {
  command = plan
  variables {
    behaviors = [{ name = "courses", path_pattern = "/courses/*", access = "signed-cookie", cookie = { domain = "d111.cloudfront.net" } }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "cors_origin_wildcard" {
  command = plan
  variables {
    behaviors = [{ name = "courses", path_pattern = "/courses/*", access = "signed-cookie", cors_origins = ["*"] }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "cors_origin_with_path" {
  command = plan
  variables {
    behaviors = [{ name = "courses", path_pattern = "/courses/*", access = "signed-cookie", cors_origins = ["https://app.example.test/player"] }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "cache_key_has_signature" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", cache_query_strings = ["Signature"] }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "cache_key_without_caching" {
  command = plan
  variables {
    behaviors = [{ name = "ebooks", path_pattern = "/ebooks/*", access = "signed-url", edge_ttl = 0, cache_query_strings = ["response-content-disposition"] }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.behaviors]
}

run "six_public_keys" {
  command = plan
  variables {
    public_keys = { for i in range(6) : "k${i}" => file("examples/complete/keys/2026-01.pem") }
  }
  expect_failures = [var.public_keys]
}

run "public_key_name" {
  command = plan
  variables {
    public_keys = { "2026 01" = file("examples/complete/keys/2026-01.pem") }
  }
  expect_failures = [var.public_keys]
}

run "public_key_not_pem" {
  command = plan
  variables {
    public_keys = { "2026-01" = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n" }
  }
  expect_failures = [var.public_keys]
}

run "signed_without_keys" {
  command = plan
  variables {
    public_keys = {}
  }
  expect_failures = [var.public_keys]
}

run "cookies_without_aliases" {
  command = plan
  variables {
    aliases             = []
    acm_certificate_arn = null
  }
  expect_failures = [var.aliases]
}

run "cookie_domain_not_an_alias" {
  command = plan
  variables {
    behaviors = [{ name = "courses", path_pattern = "/courses/*", access = "signed-cookie", cookie = { domain = "other.example" } }, { name = "default", path_pattern = "*", access = "signed-url" }]
  }
  expect_failures = [var.aliases]
}

run "alias_upper_case" {
  command = plan
  variables {
    aliases = ["Media.example.test"]
  }
  expect_failures = [var.aliases]
}

run "alias_wildcard_first" {
  command = plan
  variables {
    aliases = ["*.example.test"]
  }
  expect_failures = [var.aliases]
}

run "aliases_without_certificate" {
  command = plan
  variables {
    acm_certificate_arn = null
  }
  expect_failures = [var.acm_certificate_arn]
}

run "certificate_outside_us_east_1" {
  command = plan
  variables {
    acm_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-cert"
  }
  expect_failures = [var.acm_certificate_arn]
}

run "name_too_long" {
  command = plan
  variables {
    name = "a-name-that-is-far-too-long-for-a-bucket-prefix"
  }
  expect_failures = [var.name]
}

run "price_class_unknown" {
  command = plan
  variables {
    price_class = "PriceClass_50"
  }
  expect_failures = [var.price_class]
}

run "kms_window_too_short" {
  command = plan
  variables {
    kms_deletion_window_in_days = 3
  }
  expect_failures = [var.kms_deletion_window_in_days]
}

run "access_logs_not_a_bucket" {
  command = plan
  variables {
    access_logs = { bucket = "logs" }
  }
  expect_failures = [var.access_logs]
}
