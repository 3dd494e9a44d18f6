// Command spending is the Lambda function services call to spend credits:
// consume, hold, settle, release, refund (api.GroupSpending). Every other
// route answers 404: it cannot create contracts or grant credits.
//
// Runs on provided.al2023 behind API Gateway (HTTP API, payload 2.0).
// Environment: TABLE_NAME, TOKEN_ISSUER, TOKEN_AUDIENCE,
// TOKEN_PUBLIC_KEYS_PARAM; optionally DYNAMODB_ENDPOINT, RATECARD_DIR (see
// functions/lambda/boot).
//
// It must never read the token signing key (it verifies with public keys
// only), never log a token, and never serve a route of another group.
package main
