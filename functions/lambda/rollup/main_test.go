package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/internal/ddblocal"

	"github.com/aws/aws-lambda-go/events"
)

func TestMain(m *testing.M) { ddblocal.Main(m) }

// event is a stream batch as the event source delivers it: one
// consumption written and one refunded, and an item that is not a
// consumption.
const event = `{"Records": [
 {"eventID": "e1", "eventName": "INSERT", "dynamodb": {"ApproximateCreationDateTime": 1772366400,
  "NewImage": {"pk": {"S": "CONSUMPTION#c1#a"}, "sk": {"S": "CONSUMPTION"}, "id": {"S": "a"}, "contract": {"S": "c1"},
   "user": {"S": "alice"}, "entity": {"S": "hq"}, "service": {"S": "rendering"}, "currency": {"S": "cloud"},
   "credits": {"N": "12.5"}, "refunded": {"N": "0"}, "created_at": {"S": "2026-03-01T12:00:00Z"},
   "debits": {"L": []}, "returned": {"L": []}}}},
 {"eventID": "e2", "eventName": "MODIFY", "dynamodb": {"ApproximateCreationDateTime": 1772370000,
  "OldImage": {"pk": {"S": "CONSUMPTION#c1#b"}, "sk": {"S": "CONSUMPTION"}, "id": {"S": "b"}, "contract": {"S": "c1"},
   "user": {"S": "alice"}, "entity": {"S": "hq"}, "service": {"S": "rendering"}, "currency": {"S": "cloud"},
   "credits": {"N": "4"}, "refunded": {"N": "0"}, "created_at": {"S": "2026-03-01T12:00:00Z"}, "debits": {"L": []}, "returned": {"L": []}},
  "NewImage": {"pk": {"S": "CONSUMPTION#c1#b"}, "sk": {"S": "CONSUMPTION"}, "id": {"S": "b"}, "contract": {"S": "c1"},
   "user": {"S": "alice"}, "entity": {"S": "hq"}, "service": {"S": "rendering"}, "currency": {"S": "cloud"},
   "credits": {"N": "4"}, "refunded": {"N": "1.5"}, "created_at": {"S": "2026-03-01T12:00:00Z"}, "debits": {"L": []}, "returned": {"L": []}}}},
 {"eventID": "e3", "eventName": "INSERT", "dynamodb": {"ApproximateCreationDateTime": 1772366400,
  "NewImage": {"pk": {"S": "CONTRACT#c1"}, "sk": {"S": "LOT#x"}, "remaining": {"N": "5"}}}}
]}`

// TestRollupBatch: the function adds the batch to the roll-up rows once,
// however often the batch is delivered, and logs one line per batch.
func TestRollupBatch(t *testing.T) {
	db := ddblocal.Client(ddblocal.Endpoint(t))
	table := ddblocal.UniqueName(t.Name())
	ctx := context.Background()
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(db, table)
	var ev events.DynamoDBEvent
	if err := json.Unmarshal([]byte(event), &ev); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h := handler(st, slog.New(slog.NewJSONHandler(&logs, nil)))
	for delivery := 0; delivery < 3; delivery++ {
		if err := h(ctx, ev); err != nil {
			t.Fatalf("delivery %d: %v", delivery, err)
		}
	}
	rows, err := st.Usage(ctx, "c1", "2026-03", "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	// a adds 12.5 and one count; b's refund takes 1.5 off and no count.
	if len(rows) != 1 || rows[0].Credits.String() != "11" || rows[0].Count != 1 {
		t.Fatalf("rows = %+v, want alice's rendering at 11 ×1", rows)
	}
	if n := strings.Count(logs.String(), `"msg":"rollup"`); n != 3 {
		t.Errorf("%d log lines for 3 batches:\n%s", n, logs.String())
	}
	bad := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{EventID: "x", Change: events.DynamoDBStreamRecord{
		NewImage: map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("CONSUMPTION#c1#z"),
			"sk": events.NewStringAttribute("CONSUMPTION"), "credits": events.NewStringAttribute("not a number")}}}}}
	if err := h(ctx, bad); err == nil || !strings.Contains(logs.String(), "rollup failed") {
		t.Errorf("a batch it cannot read = %v; want an error, logged", err)
	}
}
