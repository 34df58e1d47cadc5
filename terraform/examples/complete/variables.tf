variable "acm_certificate_arn" {
  description = "ACM certificate in us-east-1 for the viewer origin's host of examples/behaviors.json."
  type        = string
}

variable "public_keys" {
  description = "Public keys by name. Default: keys/2026-01.pem; replace it with the output of `cfissuer keys export`."
  type        = map(string)
  default     = null
}

variable "name" {
  description = "Resource name prefix."
  type        = string
  default     = "cfissuer-example"
}
