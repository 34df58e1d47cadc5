variable "name" {
  description = "Name of the function, its role, log group, parameters and links table."
  type        = string
  default     = "cfissuer"
  validation {
    condition     = can(regex("^[A-Za-z0-9-_]{1,48}$", var.name))
    error_message = "name: 1 to 48 letters, digits, hyphens or underscores."
  }
}

variable "package_file" {
  description = "The Lambda package: `make lambda-zip` writes bin/cfissuer-lambda-arm64.zip (the static binary as bootstrap)."
  type        = string
}

variable "issuer_config" {
  description = "The behaviors file: the distribution module's issuer_config output."
  type        = string
  validation {
    condition     = can(jsondecode(var.issuer_config).behaviors)
    error_message = "issuer_config must be the distribution module's issuer_config output (JSON with behaviors)."
  }
}

variable "signing_keys" {
  description = "Signing keys, by CloudFront public key ID (the distribution's public_key_ids values): exactly one of kms_key_arn or secret_arn each, and optional activate_at/retire_at (RFC 3339)."
  type = map(object({
    kms_key_arn = optional(string)
    secret_arn  = optional(string)
    json_field  = optional(string)
    activate_at = optional(string)
    retire_at   = optional(string)
  }))
  validation {
    condition     = length(var.signing_keys) > 0 && alltrue([for k in values(var.signing_keys) : (k.kms_key_arn == null) != (k.secret_arn == null)])
    error_message = "signing_keys: at least one key, each with exactly one of kms_key_arn or secret_arn."
  }
}

variable "callers" {
  description = "API callers (see ServeConfig in cmd/cfissuer/serve_config.go): id, the SHA-256 of their secret, and their scope."
  type = list(object({
    id            = string
    secret_sha256 = string
    behaviors     = optional(list(string))
    path_prefixes = optional(list(string))
    max_lifetime  = optional(string)
    rate          = optional(number)
    burst         = optional(number)
    revoke        = optional(bool)
  }))
  default = []
  validation {
    condition     = alltrue([for c in var.callers : can(regex("^[0-9a-f]{64}$", c.secret_sha256))])
    error_message = "callers: secret_sha256 is the 64 lower-case hex digits of the SHA-256 of the secret."
  }
}

variable "link_key_parameters" {
  description = "Permanent links: SSM SecureString parameter names holding link keys (base64, >= 32 bytes), by key ID, the first minting. Empty turns links off; the links table is created either way."
  type        = map(string)
  default     = {}
}

variable "links_base_url" {
  description = "What permanent links start with (https://issuer.example.com); null means the Function URL."
  type        = string
  default     = null
}

variable "revocation_kvs_arn" {
  description = "ARN of the deny-list CloudFront KeyValueStore (the distribution module's, when revocation is on); null means no revocation and no access to any store."
  type        = string
  default     = null
}

variable "extra_config" {
  description = "More fields for the issuer's config (merged over the generated one), such as limits or the deny-list settings."
  type        = any
  default     = {}
}

variable "architecture" {
  description = "arm64 (Graviton, cheaper per request) or x86_64; the package must match."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB (Lambda gives CPU in proportion: 1769 MB is one full vCPU). See docs/DEPLOY.md for sizing."
  type        = number
  default     = 512
  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Function timeout in seconds."
  type        = number
  default     = 10
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (a ceiling on cost and on load on KMS); -1 means unreserved."
  type        = number
  default     = -1
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the function's log group."
  type        = number
  default     = 30
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "function_url_auth_type" {
  description = "NONE (the issuer checks its own API keys; the default) or AWS_IAM (callers sign with SigV4)."
  type        = string
  default     = "NONE"
  validation {
    condition     = contains(["NONE", "AWS_IAM"], var.function_url_auth_type)
    error_message = "function_url_auth_type must be NONE or AWS_IAM."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
