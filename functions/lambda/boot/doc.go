// Package boot builds what a Lambda function serves: the API handler limited
// to the function's route groups, or the ledger service for the sweeper, on
// the DynamoDB store.
//
// Handler and Ledger take their dependencies explicitly (a DynamoDB client,
// a table, the token issuer, audience and public keys), so tests build the
// very handler a function runs against DynamoDB Local, with no AWS account.
// FromEnv and CreditsFromEnv read the same dependencies from the environment
// at cold start, once per instance:
//
//	TABLE_NAME               the DynamoDB table (required)
//	TOKEN_ISSUER             the tokens' iss (required by the HTTP functions)
//	TOKEN_AUDIENCE           the tokens' aud (required by the HTTP functions)
//	TOKEN_PUBLIC_KEYS_PARAM  name of the SSM parameter (String or SecureString)
//	                         holding one or more PEM RSA public keys that
//	                         verify tokens (required by the HTTP functions)
//	DYNAMODB_ENDPOINT        DynamoDB endpoint override, for DynamoDB Local
//	                         in tests and local runs only (optional)
//	RATECARD_DIR             folder with extra ratecards/*.json and
//	                         pricebooks/*.json over the embedded samples
//	                         (optional)
//
// AWS credentials and region come from the Lambda runtime's environment
// through the SDK's default chain.
//
// The purchases function also reads PUBLIC_URL, STRIPE_SECRET_KEY_PARAM,
// STRIPE_WEBHOOK_SECRET_PARAM, QUOTE_SIGNING_KEY_PARAM (the SSM parameter
// holding the Ed25519 quote-link signing key, PEM PKCS#8 or a base64 seed)
// and QUOTE_LINK_URL (optional: where quote links point; PUBLIC_URL by
// default).
//
// It must never hold a token signing key: it builds verify-only auth.Keys
// from public keys and refuses to start when the parameter holds a private key.
// Key material never comes from the template (only the parameter's name
// does) and is never logged: only key ids (hashes) are. It never creates or
// alters the table; infra/ does.
package boot
