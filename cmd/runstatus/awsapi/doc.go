// Package awsapi makes the function's two AWS calls, Secrets Manager
// GetSecretValue and SNS Publish, as HTTPS requests signed with the AWS SDK's
// SigV4 signer and retried by the SDK's standard retry policy.
//
// Why not the SDK's service clients: linking config, secretsmanager and sns
// adds about 2 ms of package initialisation to every cold start (their
// serialisation schemas and endpoint rules, and the sts, sso, ssooidc and
// signin clients config brings in), which put the function at 1.6× the cold
// start of the smallest Go Lambda function. Two operations do not need that.
// What matters from the SDK is kept: its signer, its retry policy and error
// codes, and its endpoint rules, which endpoint_test.go checks against the
// SDK's own resolvers. wire_test.go checks the requests and the decoding of
// answers against the SDK's clients; the end-to-end tests run both calls
// against moto_server.
//
// Configuration is what Lambda gives a function: the region and the role's
// credentials in the environment (see FromEnv).
package awsapi
