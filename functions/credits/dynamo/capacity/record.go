package capacity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

type item = map[string]types.AttributeValue

// CallsMax bounds the calls a Recorder keeps between two Takes; beyond it
// Take fails (an operation that makes this many calls is not a spend).
const CallsMax = 10_000

// Recorder writes down the item accesses of every data call a DynamoDB
// client makes (control-plane calls such as CreateTable are not recorded).
// It is safe for concurrent use, but the before and after images it reads
// beside a write are only exact when no other writer touches the item in
// between: record one operation at a time.
type Recorder struct {
	// probe reads item images and table schemas; it is the client the
	// Recorder was made from, so its own calls are not recorded.
	probe *dynamodb.Client

	mu      sync.Mutex
	calls   []Call
	err     error
	schemas map[string]*schema
}

// NewRecorder returns a Recorder and a client like base (same options) whose
// data calls the Recorder records. Give that client to dynamo.New.
func NewRecorder(base *dynamodb.Client) (*Recorder, *dynamodb.Client) {
	r := &Recorder{probe: base, schemas: map[string]*schema{}}
	client := dynamodb.New(base.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(slices.Clone(o.APIOptions), func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("CapacityRecorder", r.handle), middleware.After)
		})
	})
	return r, client
}

// Take returns the calls recorded since the last Take, and forgets them. It
// fails if the Recorder could not measure a call (a schema or item image it
// could not read): such a trace would understate the cost.
func (r *Recorder) Take() (Trace, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls, err := r.calls, r.err
	r.calls, r.err = nil, nil
	return calls, err
}

func (r *Recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

func (r *Recorder) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error) {
	probeCtx := context.WithoutCancel(ctx)
	w, recorded, err := r.before(probeCtx, in.Parameters)
	if err != nil {
		r.fail(err)
	}
	out, md, callErr := next.HandleInitialize(ctx, in)
	if !recorded || err != nil {
		return out, md, callErr
	}
	call, err := r.after(probeCtx, in.Parameters, out.Result, w, callErr)
	if err != nil {
		r.fail(err)
		return out, md, callErr
	}
	if callErr != nil {
		call.Err = callErr.Error()
	}
	r.mu.Lock()
	if len(r.calls) < CallsMax {
		r.calls = append(r.calls, call)
	} else if r.err == nil {
		r.err = fmt.Errorf("capacity: more than %d calls recorded between two Takes", CallsMax)
	}
	r.mu.Unlock()
	return out, md, callErr
}

// write is one item a write call touches, with its image before the call.
type write struct {
	kind          Kind
	table         string
	key           item // the primary key (a Put: the whole new item)
	put           item // a Put's new item
	transactional bool
	before        item
}

// before lists the items a write call touches, with their images before
// the call; it reports whether the call is one the Recorder records.
func (r *Recorder) before(ctx context.Context, params any) ([]write, bool, error) {
	var ws []write
	switch in := params.(type) {
	case *dynamodb.GetItemInput, *dynamodb.BatchGetItemInput, *dynamodb.QueryInput,
		*dynamodb.ScanInput, *dynamodb.TransactGetItemsInput:
		return nil, true, nil
	case *dynamodb.PutItemInput:
		ws = []write{{kind: Put, table: deref(in.TableName), key: in.Item, put: in.Item}}
	case *dynamodb.UpdateItemInput:
		ws = []write{{kind: Update, table: deref(in.TableName), key: in.Key}}
	case *dynamodb.DeleteItemInput:
		ws = []write{{kind: Delete, table: deref(in.TableName), key: in.Key}}
	case *dynamodb.TransactWriteItemsInput:
		for _, ti := range in.TransactItems {
			w, err := transactWrite(ti)
			if err != nil {
				return nil, true, err
			}
			ws = append(ws, w)
		}
	default:
		return nil, false, nil
	}
	for i := range ws {
		s, err := r.schema(ctx, ws[i].table)
		if err != nil {
			return nil, true, err
		}
		if ws[i].before, err = r.image(ctx, ws[i].table, s.primary(ws[i].key)); err != nil {
			return nil, true, err
		}
	}
	return ws, true, nil
}

func transactWrite(ti types.TransactWriteItem) (write, error) {
	switch {
	case ti.Put != nil:
		return write{kind: Put, table: deref(ti.Put.TableName), key: ti.Put.Item, put: ti.Put.Item, transactional: true}, nil
	case ti.Update != nil:
		return write{kind: Update, table: deref(ti.Update.TableName), key: ti.Update.Key, transactional: true}, nil
	case ti.Delete != nil:
		return write{kind: Delete, table: deref(ti.Delete.TableName), key: ti.Delete.Key, transactional: true}, nil
	case ti.ConditionCheck != nil:
		return write{kind: Check, table: deref(ti.ConditionCheck.TableName), key: ti.ConditionCheck.Key, transactional: true}, nil
	}
	return write{}, errors.New("capacity: a transaction item with no action")
}

// after turns a finished call into its accesses.
func (r *Recorder) after(ctx context.Context, params, result any, ws []write, callErr error) (Call, error) {
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		return r.getItem(ctx, in, result)
	case *dynamodb.BatchGetItemInput:
		return r.batchGet(ctx, in, result)
	case *dynamodb.TransactGetItemsInput:
		return r.transactGet(ctx, in, result)
	case *dynamodb.QueryInput:
		return r.query(ctx, in, result)
	case *dynamodb.ScanInput:
		return r.scan(in, result)
	}
	return r.writes(ctx, operationOf(params), ws, callErr == nil)
}

func operationOf(params any) string {
	switch params.(type) {
	case *dynamodb.PutItemInput:
		return "PutItem"
	case *dynamodb.UpdateItemInput:
		return "UpdateItem"
	case *dynamodb.DeleteItemInput:
		return "DeleteItem"
	}
	return "TransactWriteItems"
}

// writes builds a write call's accesses: each item at the larger of its
// sizes before and after, and, when the call succeeded, the index entries
// it put, moved, changed or removed.
func (r *Recorder) writes(ctx context.Context, op string, ws []write, ok bool) (Call, error) {
	call := Call{Op: op}
	for _, w := range ws {
		s, err := r.schema(ctx, w.table)
		if err != nil {
			return call, err
		}
		afterImage := w.before
		if ok {
			switch w.kind {
			case Put:
				afterImage = w.put
			case Update:
				if afterImage, err = r.image(ctx, w.table, s.primary(w.key)); err != nil {
					return call, err
				}
			case Delete:
				afterImage = nil
			}
		}
		pk, sk := s.keyText(w.key)
		call.Accesses = append(call.Accesses, Access{Kind: w.kind, Table: w.table, PK: pk, SK: sk,
			Transactional: w.transactional, Bytes: max(ItemSize(w.before), ItemSize(afterImage))})
		if ok && w.kind != Check {
			call.Accesses = append(call.Accesses, s.indexAccesses(w.table, w.before, afterImage)...)
		}
	}
	return call, nil
}

func (r *Recorder) getItem(ctx context.Context, in *dynamodb.GetItemInput, result any) (Call, error) {
	table := deref(in.TableName)
	s, err := r.schema(ctx, table)
	if err != nil {
		return Call{}, err
	}
	var it item
	if out, ok := result.(*dynamodb.GetItemOutput); ok {
		it = out.Item
	}
	if in.ProjectionExpression != nil && it != nil {
		// A projection does not reduce what the read costs: size the whole item.
		if it, err = r.image(ctx, table, in.Key); err != nil {
			return Call{}, err
		}
	}
	pk, sk := s.keyText(in.Key)
	return Call{Op: "GetItem", Accesses: []Access{{Kind: Get, Table: table, PK: pk, SK: sk,
		Strong: deref(in.ConsistentRead), Bytes: ItemSize(it)}}}, nil
}

func (r *Recorder) batchGet(ctx context.Context, in *dynamodb.BatchGetItemInput, result any) (Call, error) {
	out, _ := result.(*dynamodb.BatchGetItemOutput)
	call := Call{Op: "BatchGetItem"}
	for _, table := range sortedKeys(in.RequestItems) {
		ka := in.RequestItems[table]
		s, err := r.schema(ctx, table)
		if err != nil {
			return call, err
		}
		found := map[string]item{}
		if out != nil {
			for _, it := range out.Responses[table] {
				found[s.identity(it)] = it
			}
			if len(out.UnprocessedKeys) > 0 {
				call.Note = "unprocessed keys were retried in a later call"
			}
		}
		for _, key := range ka.Keys {
			it := found[s.identity(key)]
			if ka.ProjectionExpression != nil && it != nil {
				if it, err = r.image(ctx, table, key); err != nil {
					return call, err
				}
			}
			pk, sk := s.keyText(key)
			call.Accesses = append(call.Accesses, Access{Kind: Get, Table: table, PK: pk, SK: sk,
				Strong: deref(ka.ConsistentRead), Bytes: ItemSize(it)})
		}
	}
	return call, nil
}

func (r *Recorder) transactGet(ctx context.Context, in *dynamodb.TransactGetItemsInput, result any) (Call, error) {
	out, _ := result.(*dynamodb.TransactGetItemsOutput)
	call := Call{Op: "TransactGetItems"}
	for i, g := range in.TransactItems {
		if g.Get == nil {
			continue
		}
		table := deref(g.Get.TableName)
		s, err := r.schema(ctx, table)
		if err != nil {
			return call, err
		}
		// A projection does not reduce what the read costs: with one (or no
		// answer), size the whole item as it is now.
		var it item
		if out != nil && i < len(out.Responses) && g.Get.ProjectionExpression == nil {
			it = out.Responses[i].Item
		} else if it, err = r.image(ctx, table, g.Get.Key); err != nil {
			return call, err
		}
		pk, sk := s.keyText(g.Get.Key)
		call.Accesses = append(call.Accesses, Access{Kind: Get, Table: table, PK: pk, SK: sk,
			Strong: true, Transactional: true, Bytes: ItemSize(it)})
	}
	return call, nil
}

func (r *Recorder) query(ctx context.Context, in *dynamodb.QueryInput, result any) (Call, error) {
	table, index := deref(in.TableName), deref(in.IndexName)
	s, err := r.schema(ctx, table)
	if err != nil {
		return Call{}, err
	}
	pkAttr := s.pk
	if index != "" {
		ix := s.index(index)
		if ix == nil {
			return Call{}, fmt.Errorf("capacity: table %s has no index %s", table, index)
		}
		pkAttr = ix.pk
	}
	pk, err := queryPartition(in, pkAttr)
	if err != nil {
		return Call{}, err
	}
	a := Access{Kind: Query, Table: table, Index: index, PK: pk, Strong: deref(in.ConsistentRead)}
	if out, ok := result.(*dynamodb.QueryOutput); ok {
		for _, it := range out.Items {
			a.Bytes += ItemSize(it)
		}
		a.Items = len(out.Items)
	}
	call := Call{Op: "Query", Accesses: []Access{a}}
	if in.ProjectionExpression != nil || in.FilterExpression != nil || in.Select != "" {
		call.Note = "a projection, filter or Select: sizes are of the items returned, which can understate the items read"
	}
	return call, nil
}

func (r *Recorder) scan(in *dynamodb.ScanInput, result any) (Call, error) {
	a := Access{Kind: Scan, Table: deref(in.TableName), Index: deref(in.IndexName), PK: "*", Strong: deref(in.ConsistentRead)}
	if out, ok := result.(*dynamodb.ScanOutput); ok {
		for _, it := range out.Items {
			a.Bytes += ItemSize(it)
		}
		a.Items = len(out.Items)
	}
	return Call{Op: "Scan", Accesses: []Access{a}, Note: "a Scan reads every partition; recorded as one"}, nil
}

// image reads an item as it is now (strongly consistent), nil if absent.
func (r *Recorder) image(ctx context.Context, table string, key item) (item, error) {
	out, err := r.probe.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("capacity: read an item image in %s: %w", table, err)
	}
	return out.Item, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
