// Package infratest checks the deploy template (infra/template.yaml) against
// the code it deploys: every Lambda entry point has a function and every
// function an entry point; the table is the one the DynamoDB adapter
// expects; each function's role grants exactly the actions its code paths
// use; every route each function serves is wired to it, behind the JWT
// authorizer unless it is public.
//
// It has no code of its own, only tests, which parse the template with
// goformation (it reads SAM resources and CloudFormation's short-form tags).
// cfn-lint, where installed, checks the rest (infra/lint.sh). It must never
// call AWS.
package infratest
