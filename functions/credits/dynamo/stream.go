package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamReader feeds the table's stream to RollUp where no Lambda event
// source does: the tests, and the local server on DynamoDB Local. It reads
// every shard from its start and remembers, per shard, the last change it
// rolled up, so each CatchUp hands RollUp only what is new — in the
// stream's batches, as the event source would.
type StreamReader struct {
	store   *Store
	streams *dynamodbstreams.Client
	arn     string

	mu    sync.Mutex
	after map[string]string // shard id → sequence number of the last change rolled up
}

// streamBatchMax is the most changes CatchUp hands RollUp at once (the
// stream's own limit on one GetRecords).
const streamBatchMax = 1000

// NewStreamReader reads the stream of st's table through streams.
func NewStreamReader(ctx context.Context, st *Store, streams *dynamodbstreams.Client) (*StreamReader, error) {
	out, err := st.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &st.table})
	if err != nil {
		return nil, fmt.Errorf("dynamo: describe table %s: %w", st.table, err)
	}
	if out.Table.LatestStreamArn == nil {
		return nil, fmt.Errorf("dynamo: table %s has no stream", st.table)
	}
	return &StreamReader{store: st, streams: streams, arn: *out.Table.LatestStreamArn, after: map[string]string{}}, nil
}

// CatchUp rolls up every change the stream holds that this reader has not.
func (r *StreamReader) CatchUp(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var start *string
	for {
		out, err := r.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &r.arn, ExclusiveStartShardId: start})
		if err != nil {
			return fmt.Errorf("dynamo: describe stream: %w", err)
		}
		// Shards are listed parents first, and a child's changes follow
		// its parent's.
		for _, sh := range out.StreamDescription.Shards {
			if err := r.shard(ctx, aws.ToString(sh.ShardId)); err != nil {
				return err
			}
		}
		if start = out.StreamDescription.LastEvaluatedShardId; start == nil {
			return nil
		}
	}
}

// shard rolls up what is new in one shard.
func (r *StreamReader) shard(ctx context.Context, id string) error {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: &r.arn, ShardId: &id, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon}
	if seq, ok := r.after[id]; ok {
		in.ShardIteratorType, in.SequenceNumber = stypes.ShardIteratorTypeAfterSequenceNumber, &seq
	}
	it, err := r.streams.GetShardIterator(ctx, in)
	if err != nil {
		return fmt.Errorf("dynamo: shard iterator of %s: %w", id, err)
	}
	for iter := it.ShardIterator; iter != nil; {
		out, err := r.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(streamBatchMax)})
		if err != nil {
			return fmt.Errorf("dynamo: records of shard %s: %w", id, err)
		}
		if len(out.Records) == 0 {
			return nil // caught up (an open shard hands out an iterator forever)
		}
		changes := make([]Change, 0, len(out.Records))
		for _, rec := range out.Records {
			ch, err := streamChange(rec)
			if err != nil {
				return err
			}
			changes = append(changes, ch)
		}
		if err := r.store.RollUp(ctx, changes); err != nil {
			return err
		}
		r.after[id] = aws.ToString(out.Records[len(out.Records)-1].Dynamodb.SequenceNumber)
		iter = out.NextShardIterator
	}
	return nil
}

func streamChange(rec stypes.Record) (Change, error) {
	d := rec.Dynamodb
	if d == nil {
		return Change{}, errors.New("dynamo: a stream record without its change")
	}
	ch := Change{EventID: aws.ToString(rec.EventID), At: aws.ToTime(d.ApproximateCreationDateTime).UTC()}
	var err error
	if d.OldImage != nil {
		ch.Old, err = attributevalue.FromDynamoDBStreamsMap(d.OldImage)
	}
	if d.NewImage != nil && err == nil {
		ch.New, err = attributevalue.FromDynamoDBStreamsMap(d.NewImage)
	}
	return ch, err
}

// Poll calls CatchUp every interval until ctx is done, reporting failures
// to failed: the local server's stand-in for the roll-up function.
func (r *StreamReader) Poll(ctx context.Context, interval time.Duration, failed func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.CatchUp(ctx); err != nil && ctx.Err() == nil {
				failed(err)
			}
		}
	}
}

// LambdaChanges are the changes of a stream batch as a Lambda event source
// delivers them (the roll-up function's input).
func LambdaChanges(ev events.DynamoDBEvent) ([]Change, error) {
	out := make([]Change, 0, len(ev.Records))
	for _, rec := range ev.Records {
		ch := Change{EventID: rec.EventID, At: rec.Change.ApproximateCreationDateTime.UTC()}
		var err error
		if ch.Old, err = fromLambda(rec.Change.OldImage); err == nil {
			ch.New, err = fromLambda(rec.Change.NewImage)
		}
		if err != nil {
			return nil, fmt.Errorf("dynamo: change %s: %w", rec.EventID, err)
		}
		out = append(out, ch)
	}
	return out, nil
}

// fromLambda is an item as a Lambda stream event gives it, as the table's
// API gives it.
func fromLambda(img map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	if len(img) == 0 {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		c, err := fromLambdaValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = c
	}
	return out, nil
}

func fromLambdaValue(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		l := make([]types.AttributeValue, len(v.List()))
		for i, e := range v.List() {
			c, err := fromLambdaValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = c
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case events.DataTypeMap:
		m, err := fromLambda(v.Map())
		if m == nil {
			m = map[string]types.AttributeValue{}
		}
		return &types.AttributeValueMemberM{Value: m}, err
	}
	return nil, fmt.Errorf("dynamo: stream attribute of type %v", v.DataType())
}
