// Command directory-backfill gives the items of a ledger table that were
// written before an index existed their index keys: contracts their
// contract-directory keys (dynamo.BackfillDirectory), so the hourly alert
// check sees them, and lots their pool keys and owner directory items
// (dynamo.BackfillPools), so spends, balances and removals see them. Run
// it once after upgrading such a table, with credentials that may Scan,
// UpdateItem and PutItem it (an operator's; the functions' roles have no
// Scan):
//
//	go run ./scripts/directory-backfill -table cloudcredits-ledger
//	go run ./scripts/directory-backfill -table ledger -endpoint http://127.0.0.1:8000   # DynamoDB Local
//
// Running it again changes nothing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"cloudcredits/functions/credits/dynamo"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	table := flag.String("table", dynamo.TableNameDefault, "the ledger table")
	endpoint := flag.String("endpoint", "", "a DynamoDB endpoint other than AWS's (DynamoDB Local)")
	flag.Parse()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "directory-backfill: AWS configuration:", err)
		os.Exit(1)
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	n, err := dynamo.BackfillDirectory(ctx, client, *table)
	if err != nil {
		fmt.Fprintln(os.Stderr, "directory-backfill:", err)
		os.Exit(1)
	}
	fmt.Printf("%d contracts of %s added to the contract directory\n", n, *table)
	if n, err = dynamo.BackfillPools(ctx, client, *table); err != nil {
		fmt.Fprintln(os.Stderr, "directory-backfill:", err)
		os.Exit(1)
	}
	fmt.Printf("%d lots of %s added to the pool index\n", n, *table)
}
