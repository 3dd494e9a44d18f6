package capacity_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/credits/dynamo/capacity"
	"cloudcredits/functions/internal/ddblocal"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func TestItemSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"string: name and UTF-8 bytes", map[string]types.AttributeValue{"ab": s("héllo")}, 2 + 6},
		{"number: a byte per two significant digits, plus one", map[string]types.AttributeValue{"n": n("12345")}, 1 + 3 + 1},
		{"number: leading and trailing zeros, sign and point don't count", map[string]types.AttributeValue{"n": n("-00120.500")}, 1 + 2 + 1},
		{"zero", map[string]types.AttributeValue{"n": n("0")}, 1 + 1},
		{"Boolean and null: one byte", map[string]types.AttributeValue{
			"b": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true}}, 2 + 2},
		{"map: 3 bytes, plus 1 byte and the size of each element", map[string]types.AttributeValue{
			"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s("vv")}}}, 1 + 3 + 1 + 1 + 2},
		{"list: 3 bytes, plus 1 byte and the size of each element", map[string]types.AttributeValue{
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("a"), n("7")}}}, 1 + 3 + (1 + 1) + (1 + 2)},
		{"string set: its strings", map[string]types.AttributeValue{"ss": &types.AttributeValueMemberSS{Value: []string{"ab", "c"}}}, 2 + 3},
	} {
		if got := capacity.ItemSize(tc.item); got != tc.want {
			t.Errorf("%s: ItemSize = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// The Recorder, against DynamoDB Local, writes down what each call touched:
// sizes by DynamoDB's rules (a write at the larger of before and after),
// the sweep index's entries a write puts, moves or leaves alone, a Query's
// partition and bytes, each read's consistency.
func TestRecorderAgainstDynamoDBLocal(t *testing.T) {
	ctx := context.Background()
	base := ddblocal.Client(ddblocal.Endpoint(t))
	table := ddblocal.UniqueName(t.Name())
	if err := dynamo.CreateTable(ctx, base, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		_, _ = base.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	rec, db := capacity.NewRecorder(base)
	body := strings.Repeat("x", 1500)
	// pk 2+1, sk 2+1, gsi1pk 6+2, gsi1sk 6+1, body 4+1500: 1525 bytes; its
	// keys-only index entry 21 bytes.
	item := map[string]types.AttributeValue{"pk": s("A"), "sk": s("1"), "gsi1pk": s("G1"), "gsi1sk": s("x"), "body": s(body)}
	key := map[string]types.AttributeValue{"pk": s("A"), "sk": s("1")}
	calls := []func() error{
		func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item})
			return err
		},
		func() error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key,
				UpdateExpression: aws.String("SET gsi1pk = :g"), ExpressionAttributeValues: map[string]types.AttributeValue{":g": s("G2")}})
			return err
		},
		func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Update: &types.Update{TableName: &table, Key: key, UpdateExpression: aws.String("ADD n :five"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":five": n("5")}}},
				{ConditionCheck: &types.ConditionCheck{TableName: &table, Key: map[string]types.AttributeValue{"pk": s("B"), "sk": s("1")},
					ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			}})
			return err
		},
		func() error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key})
			return err
		},
		func() error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("#p = :p"),
				ExpressionAttributeNames: map[string]string{"#p": "pk"}, ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("A")},
				ConsistentRead: aws.Bool(true)})
			return err
		},
		func() error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, IndexName: aws.String(dynamo.IndexSweep),
				KeyConditionExpression: aws.String(":g = gsi1pk"), ExpressionAttributeValues: map[string]types.AttributeValue{":g": s("G2")}})
			return err
		},
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	got, err := rec.Take()
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	ix := dynamo.IndexSweep
	want := capacity.Trace{
		{Op: "PutItem", Accesses: []capacity.Access{
			{Kind: capacity.Put, Table: table, PK: "A", SK: "1", Bytes: 1525},
			{Kind: capacity.IndexPut, Table: table, Index: ix, PK: "G1", SK: "x", Bytes: 21}}},
		{Op: "UpdateItem", Accesses: []capacity.Access{
			{Kind: capacity.Update, Table: table, PK: "A", SK: "1", Bytes: 1525},
			{Kind: capacity.IndexDelete, Table: table, Index: ix, PK: "G1", SK: "x", Bytes: 21},
			{Kind: capacity.IndexPut, Table: table, Index: ix, PK: "G2", SK: "x", Bytes: 21}}},
		{Op: "TransactWriteItems", Accesses: []capacity.Access{
			{Kind: capacity.Update, Table: table, PK: "A", SK: "1", Transactional: true, Bytes: 1528},
			{Kind: capacity.Check, Table: table, PK: "B", SK: "1", Transactional: true}}},
		{Op: "GetItem", Accesses: []capacity.Access{{Kind: capacity.Get, Table: table, PK: "A", SK: "1", Bytes: 1528}}},
		{Op: "Query", Accesses: []capacity.Access{{Kind: capacity.Query, Table: table, PK: "A", Strong: true, Bytes: 1528, Items: 1}}},
		{Op: "Query", Accesses: []capacity.Access{{Kind: capacity.Query, Table: table, Index: ix, PK: "G2", Bytes: 21, Items: 1}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recorded:\n%+v\nwant:\n%+v", got, want)
	}
	w, r := got.Units()
	// Put 2 + index 1; update 2 + index 2; transaction 2·2 + check 2·1;
	// eventually consistent get 0.5; strong query 1; index query 0.5.
	if w != 13 || r != 2 {
		t.Errorf("trace units = %g WCU, %g RCU; want 13, 2", w, r)
	}
}
