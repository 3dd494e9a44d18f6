// Command purchases is the Lambda function for buying credits: orders,
// checkout, payment webhooks and quotes (api.GroupPurchases). It serves
// whatever routes that group has; every other route, including the ones the
// group does not have yet, answers 404.
//
// Runs on provided.al2023 behind API Gateway (HTTP API, payload 2.0).
// Environment: TABLE_NAME, TOKEN_ISSUER, TOKEN_AUDIENCE,
// TOKEN_PUBLIC_KEYS_PARAM; optionally DYNAMODB_ENDPOINT, RATECARD_DIR (see
// functions/lambda/boot).
//
// It must never read the token signing key (it verifies with public keys
// only), never log a token, and never serve a route of another group.
package main
