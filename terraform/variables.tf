variable "name" {
  description = "Prefix of every resource name (cache and response headers policies, key group, OAC, bucket prefix)."
  type        = string
  default     = "cfissuer"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,23}$", var.name))
    error_message = "name must be 1 to 24 lower-case letters, digits and '-', starting with a letter or digit (it prefixes the bucket name)."
  }
}

# The behaviors list of the signing core's behaviors file (docs/behaviors.schema.json), for example
# jsondecode(file("behaviors.json")).behaviors. Defaults are those of policy/behavior.go; the validation blocks below mirror
# the JSON Schema, so a file Terraform accepts is one `cfissuer serve --behaviors` accepts.
variable "behaviors" {
  description = "Cache behaviors in CloudFront's order (first match wins), in the behaviors-file form; the last one has path_pattern \"*\" and is the default cache behavior."
  type = list(object({
    name            = string
    path_pattern    = string
    access          = string
    policy          = optional(string) # canned | custom; default custom for cookies, canned for URLs
    hash            = optional(string) # SHA1 | SHA256; default depends on the key type, decided by the issuer
    browser_max_age = optional(number, 3600)
    edge_ttl        = optional(number, 86400)
    window          = optional(number, 3600)
    margin          = optional(number, 300)
    max_lifetime    = optional(number, 86400)
    ip_binding      = optional(bool)
    cookie = optional(object({
      domain    = optional(string)
      same_site = optional(string)
    }))
    cors_origins        = optional(list(string), [])
    cache_query_strings = optional(list(string), [])
  }))

  validation {
    condition     = length(var.behaviors) >= 1 && length(var.behaviors) <= 26
    error_message = "behaviors must hold 1 to 26 entries: up to 25 ordered cache behaviors (CloudFront's default quota) and the default behavior."
  }

  validation {
    condition = length(var.behaviors) > 0 && alltrue([
      for i, b in var.behaviors : (b.path_pattern == "*") == (i == length(var.behaviors) - 1)
    ])
    error_message = "The last behavior is the distribution's default and must have path_pattern \"*\", and \"*\" may appear only there."
  }

  validation {
    condition     = alltrue([for b in var.behaviors : can(regex("^[a-z0-9-]+$", b.name))])
    error_message = "Every behavior name must be lower-case letters, digits and '-'."
  }

  validation {
    condition     = length(distinct([for b in var.behaviors : b.name])) == length(var.behaviors)
    error_message = "Behavior names must be unique."
  }

  validation {
    condition = alltrue([
      for b in var.behaviors : length(b.path_pattern) <= 255 && can(regex("^[A-Za-z0-9_.*$/~\"'@:+&?-]+$", b.path_pattern))
    ])
    error_message = "Every path_pattern must be at most 255 of A-Z a-z 0-9 _ - . * $ / ~ \" ' @ : + & ?."
  }

  validation {
    # The leading '/' is optional in CloudFront, so "a/*" and "/a/*" are the same pattern (policy.normalizePattern).
    condition = length(distinct([
      for b in var.behaviors : can(regex("^[/*]", b.path_pattern)) ? b.path_pattern : "/${b.path_pattern}"
    ])) == length(var.behaviors)
    error_message = "Path patterns must be unique (a leading '/' does not count): CloudFront would never reach the second one."
  }

  validation {
    condition     = alltrue([for b in var.behaviors : contains(["signed-url", "signed-cookie", "public"], b.access)])
    error_message = "Every behavior's access must be signed-url, signed-cookie or public."
  }

  validation {
    condition     = alltrue([for b in var.behaviors : contains(["canned", "custom"], coalesce(b.policy, "custom"))])
    error_message = "A behavior's policy must be canned or custom."
  }

  validation {
    condition     = alltrue([for b in var.behaviors : !(b.access == "signed-cookie" && b.policy == "canned")])
    error_message = "signed-cookie behaviors need a custom policy: a canned cookie covers one URL, not a playlist and its segments."
  }

  validation {
    condition     = alltrue([for b in var.behaviors : contains(["SHA1", "SHA256"], coalesce(b.hash, "SHA1"))])
    error_message = "A behavior's hash must be SHA1 or SHA256."
  }

  validation {
    condition = alltrue(flatten([
      for b in var.behaviors : [
        for v in [b.browser_max_age, b.edge_ttl, b.margin] : v >= 0 && floor(v) == v
      ]
    ]))
    error_message = "browser_max_age, edge_ttl and margin must be whole, non-negative numbers of seconds."
  }

  validation {
    condition = alltrue(flatten([
      for b in var.behaviors : [for v in [b.window, b.max_lifetime] : v >= 1 && floor(v) == v]
    ]))
    error_message = "window and max_lifetime must be whole numbers of seconds, at least 1."
  }

  validation {
    condition = alltrue([
      for b in var.behaviors : b.access == "public" || b.browser_max_age + b.margin + b.window <= b.max_lifetime
    ])
    error_message = "For every signed behavior, browser_max_age + margin + window (the longest validity an aligned expiry can have) must not exceed max_lifetime."
  }

  validation {
    condition = alltrue([
      for b in var.behaviors : b.access != "public" || (b.policy == null && b.hash == null && b.ip_binding == null && b.cookie == null)
    ])
    error_message = "policy, hash, ip_binding and cookie only apply to signed behaviors; remove them from public ones."
  }

  validation {
    condition     = alltrue([for b in var.behaviors : b.cookie == null || b.access == "signed-cookie"])
    error_message = "cookie only applies to signed-cookie behaviors."
  }

  validation {
    condition = alltrue([
      for b in var.behaviors : contains(["Lax", "Strict", "None"], try(coalesce(b.cookie.same_site, "Lax"), "Lax"))
    ])
    error_message = "cookie.same_site must be Lax, Strict or None."
  }

  validation {
    condition = alltrue([
      for b in var.behaviors : try(b.cookie.domain, null) == null ? true : (
        can(regex("^\\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$", b.cookie.domain)) &&
        !endswith(b.cookie.domain, "cloudfront.net")
      )
    ])
    error_message = "cookie.domain must be a lower-case domain name of your own (never cloudfront.net)."
  }

  validation {
    condition = alltrue(flatten([
      for b in var.behaviors : [
        for o in b.cors_origins : can(regex("^https?://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]+)?$", o))
      ]
    ]))
    error_message = "Every cors_origins entry must be an origin like https://app.example.com (lower-case host, no path, no '*')."
  }

  validation {
    condition = alltrue(flatten([
      for b in var.behaviors : [
        for q in b.cache_query_strings : can(regex("^[A-Za-z0-9_.~-]+$", q)) &&
        !contains(["Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"], q)
      ]
    ]))
    error_message = "cache_query_strings must be plain query parameter names and never a CloudFront signing parameter (Expires, Policy, Signature, Key-Pair-Id, Hash-Algorithm)."
  }

  validation {
    # CloudFront refuses a cache key when caching is disabled, and this module forwards query strings to S3 only
    # through the cache key (no origin request policy).
    condition     = alltrue([for b in var.behaviors : b.edge_ttl > 0 || length(b.cache_query_strings) == 0])
    error_message = "cache_query_strings need edge_ttl > 0: CloudFront allows no cache key when caching is disabled."
  }
}

variable "public_keys" {
  description = "CloudFront public keys to trust, by name (letters, digits, '-' and '_'): PEM from `cfissuer keygen` or `cfissuer keys export`. To rotate, add the new key, apply, switch signing, wait for old grants to expire, then remove the old key and apply again."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.public_keys) <= 5
    error_message = "A CloudFront key group holds at most 5 public keys."
  }

  validation {
    condition     = alltrue([for k in keys(var.public_keys) : can(regex("^[A-Za-z0-9_-]{1,64}$", k))])
    error_message = "public_keys names must be 1 to 64 letters, digits, '-' and '_'."
  }

  validation {
    condition = alltrue([
      for pem in values(var.public_keys) : can(regex("^\\s*-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\\s]+-----END PUBLIC KEY-----\\s*$", pem))
    ])
    error_message = "Every public key must be one PEM \"PUBLIC KEY\" block (SubjectPublicKeyInfo), as `cfissuer keys export` writes it."
  }

  validation {
    condition     = length(var.public_keys) > 0 || alltrue([for b in var.behaviors : b.access == "public"])
    error_message = "Signed behaviors need at least one public key in public_keys."
  }
}

variable "revocation" {
  description = "Revocation before expiry (docs/REVOCATION.md): a CloudFront KeyValueStore of revoked grants and subjects, and the viewer-request function functions/deny.js that answers 403 for them, associated with every signed behavior. The issuer writes to the store (output revocation_kvs_arn). Off: no store, no function, no association."
  type        = bool
  default     = true
}

variable "aliases" {
  description = "Alternate domain names of the distribution (media.example.com). The first one is the viewer origin in issuer_config. Required for signed cookies."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.aliases) > 0 || alltrue([for b in var.behaviors : b.access != "signed-cookie"])
    error_message = "Signed-cookie behaviors need an alternate domain name (aliases) and its certificate: browsers never send your cookies to *.cloudfront.net."
  }

  validation {
    condition = alltrue([
      for b in var.behaviors : try(b.cookie.domain, null) == null ? true : anytrue([
        for a in var.aliases : a == trimprefix(b.cookie.domain, ".") || endswith(a, ".${trimprefix(b.cookie.domain, ".")}")
      ])
    ])
    error_message = "A cookie.domain must be one of the aliases or a parent domain of one, or viewers never send the cookies to the distribution."
  }

  validation {
    condition     = alltrue([for a in var.aliases : can(regex("^(\\*\\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", a))])
    error_message = "Every alias must be a lower-case domain name such as media.example.com."
  }

  validation {
    condition     = !startswith(try(var.aliases[0], ""), "*")
    error_message = "The first alias is the viewer origin that signed resources name: it must be a host, not a wildcard."
  }
}

variable "acm_certificate_arn" {
  description = "ARN of an ACM certificate in us-east-1 that covers the aliases. Required when aliases are set."
  type        = string
  default     = null

  validation {
    condition     = length(var.aliases) == 0 || var.acm_certificate_arn != null
    error_message = "Aliases need acm_certificate_arn: an ACM certificate in us-east-1 that covers them."
  }

  validation {
    condition     = var.acm_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[A-Za-z0-9-]+$", var.acm_certificate_arn))
    error_message = "acm_certificate_arn must be an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from that region)."
  }
}

variable "bucket_name" {
  description = "Name of the private origin bucket. Default: a unique name starting with \"<name>-origin-\"."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with its objects."
  type        = bool
  default     = false
}

variable "versioning" {
  description = "Enable versioning on the origin bucket."
  type        = bool
  default     = false
}

variable "kms_encryption" {
  description = "Encrypt the bucket with a customer managed KMS key (SSE-KMS) whose key policy lets only this distribution's OAC decrypt. Default: SSE-S3."
  type        = bool
  default     = false
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the KMS key is deleted after destroy (7 to 30 days)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be between 7 and 30."
  }
}

variable "access_logs" {
  description = "CloudFront standard access logs: bucket is the log bucket's domain name (logs.s3.amazonaws.com; it needs ACLs enabled). Cookies are never logged: they are credentials. Default: off."
  type = object({
    bucket = string
    prefix = optional(string, "")
  })
  default = null

  validation {
    condition     = var.access_logs == null || can(regex("\\.s3\\.([a-z0-9-]+\\.)?amazonaws\\.com$", var.access_logs.bucket))
    error_message = "access_logs.bucket must be a bucket domain name such as logs.s3.amazonaws.com."
  }
}

variable "web_acl_id" {
  description = "ARN of an AWS WAFv2 web ACL (scope CLOUDFRONT) to attach. Default: none."
  type        = string
  default     = null
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_All"

  validation {
    condition     = contains(["PriceClass_All", "PriceClass_200", "PriceClass_100"], var.price_class)
    error_message = "price_class must be PriceClass_All, PriceClass_200 or PriceClass_100."
  }
}

variable "wait_for_deployment" {
  description = "Wait until the distribution is deployed before finishing apply."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}
