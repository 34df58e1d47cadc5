terraform {
  # 1.9: validation blocks that refer to other variables (aliases, keys and
  # certificate are checked against the behaviors).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
