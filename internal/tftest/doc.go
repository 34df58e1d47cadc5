// Package tftest holds the tests of the Terraform module in terraform/: formatting, validation, the module's own
// `terraform test` files (mocked provider), a tfsec scan, and apply/destroy of terraform/examples/complete against
// moto_server extended with the CloudFront APIs the AWS provider needs (moto/moto_cf_ext.py, with its self-test);
// and terraform/modules/issuer's validate, mocked tests and apply/update/destroy against the same moto plus a Lambda
// LoggingConfig patch (moto/moto_lambda_ext.py, with its self-test).
//
// The tests are behind the "terraform" build tag because they need the terraform binary, the provider mirror,
// Python moto and tfsec, and take minutes: `make test-terraform` (part of `make test`) writes the Terraform CLI
// configuration, installs tfsec and runs them. They copy the module into temporary directories and write nothing
// into the repository. The package has no non-test code.
package tftest
