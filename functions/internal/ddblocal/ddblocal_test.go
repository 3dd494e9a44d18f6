package ddblocal

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloudcredits/functions/internal/testproc"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestMain(m *testing.M) { Main(m) }

// newTable creates a table keyed by the string attribute pk and deletes it at the end.
func newTable(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	ctx := context.Background()
	name := UniqueName(t.Name())
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
}

func num(n int) types.AttributeValue { return &types.AttributeValueMemberN{Value: strconv.Itoa(n)} }

func putCounter(t *testing.T, db *dynamodb.Client, table string, n int) {
	t.Helper()
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "counter"}, "n": num(n)},
	})
	if err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

func readCounter(t *testing.T, db *dynamodb.Client, table string) int {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: key("counter"), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	v, ok := out.Item["n"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("counter item has no number n: %v", out.Item)
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil {
		t.Fatalf("n = %q: %v", v.Value, err)
	}
	return n
}

var decrement = struct{ update, cond string }{"SET n = n - :one", "n >= :one"}

// 200 conditional decrements from 20 goroutines on a counter at 150: exactly
// 150 succeed, 50 fail on their condition, and the counter never goes below 0.
func TestConcurrentConditionalDecrements(t *testing.T) {
	t.Parallel()
	db := Client(Endpoint(t))
	table := newTable(t, db)
	putCounter(t, db, table, 150)

	const workers, perWorker = 20, 10
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for range perWorker {
				_, err := db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
					TableName:                 aws.String(table),
					Key:                       key("counter"),
					UpdateExpression:          aws.String(decrement.update),
					ConditionExpression:       aws.String(decrement.cond),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
				})
				var ccf *types.ConditionalCheckFailedException
				switch {
				case err == nil:
					ok.Add(1)
				case errors.As(err, &ccf):
					failed.Add(1)
				default:
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error (neither success nor ConditionalCheckFailed): %v", err)
	}
	t.Logf("%d decrements in %s: %d succeeded, %d ConditionalCheckFailed",
		workers*perWorker, time.Since(start).Round(time.Millisecond), ok.Load(), failed.Load())
	if ok.Load() != 150 || failed.Load() != 50 {
		t.Errorf("succeeded %d, failed %d; want 150 and 50", ok.Load(), failed.Load())
	}
	if n := readCounter(t, db, table); n != 0 {
		t.Errorf("counter ends at %d, want 0", n)
	}
}

// A transaction whose second action's condition fails is cancelled whole, and
// the error carries one cancellation reason per action, in order.
func TestTransactionCancellationReasons(t *testing.T) {
	t.Parallel()
	db := Client(Endpoint(t))
	table := newTable(t, db)
	putCounter(t, db, table, 0)

	_, err := db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName:           aws.String(table),
				Item:                map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "entry-1"}},
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}},
			{Update: &types.Update{
				TableName:                           aws.String(table),
				Key:                                 key("counter"),
				UpdateExpression:                    aws.String(decrement.update),
				ConditionExpression:                 aws.String(decrement.cond),
				ExpressionAttributeValues:           map[string]types.AttributeValue{":one": num(1)},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
		},
	})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("TransactWriteItems error = %v; want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	t.Logf("cancellation reasons: %v (message: %s)", codes, aws.ToString(tce.Message))
	if got, want := strings.Join(codes, ","), "None,ConditionalCheckFailed"; got != want {
		t.Errorf("cancellation codes = %s, want %s", got, want)
	}
	if len(tce.CancellationReasons) == 2 {
		if old, ok := tce.CancellationReasons[1].Item["n"].(*types.AttributeValueMemberN); !ok || old.Value != "0" {
			t.Errorf("failed action's old item = %v, want n=0", tce.CancellationReasons[1].Item)
		}
	}
	// Nothing of the cancelled transaction was written.
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: key("entry-1"), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if out.Item != nil {
		t.Errorf("cancelled transaction wrote entry-1: %v", out.Item)
	}
	if n := readCounter(t, db, table); n != 0 {
		t.Errorf("counter = %d after cancelled transaction, want 0", n)
	}
}

// An endpoint where nothing listens is reported, quickly, as an error.
func TestProbeUnreachable(t *testing.T) {
	t.Parallel()
	testproc.CheckProbeUnreachable(t, probe, probeTimeout)
}

func TestUniqueName(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	seen := map[string]bool{}
	for _, prefix := range []string{"ledger", "TestX/sub case#1", "", strings.Repeat("x", 300)} {
		for range 3 {
			n := UniqueName(prefix)
			if !valid.MatchString(n) {
				t.Errorf("UniqueName(%.20q) = %q: not a valid table name", prefix, n)
			}
			if seen[n] {
				t.Errorf("UniqueName(%.20q) repeated %q", prefix, n)
			}
			seen[n] = true
		}
	}
	if n := UniqueName("TestX/sub"); !strings.HasPrefix(n, "TestX-sub-") {
		t.Errorf("UniqueName(TestX/sub) = %q", n)
	}
}
