package boot

import "cloudcredits/functions/credits/dynamo"

// The DynamoDB actions each HTTP function's code performs: its role in the
// deploy template must allow exactly these (infra/infratest checks the
// template against them), and a test of this package records the calls
// the functions make for their fixtures against DynamoDB Local and checks
// each is among them.
var (
	ledgerRead  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
	ledgerWrite = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
)

// TableActions are the actions f performs on the ledger table itself (a
// transaction's items count as the actions of their kinds, as IAM
// authorises them).
func (f Function) TableActions() []string {
	if f == Reads {
		return append([]string(nil), ledgerRead...)
	}
	return append(append([]string(nil), ledgerRead...), ledgerWrite...)
}

// IndexQueries are the ledger table's indexes f queries: a spend reads the
// pool index (reads does for balances), a currency sunset the sweep index.
func (f Function) IndexQueries() []string {
	switch f {
	case Reads, Spending:
		return []string{dynamo.IndexPool}
	case Admin:
		return []string{dynamo.IndexSweep}
	}
	return nil
}
