package capacity

import (
	"context"
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// schema is what the Recorder needs of a table: its key attributes and its
// global secondary indexes.
type schema struct {
	pk, sk  string
	indexes []index
}

// index is a global secondary index: its key attributes and projection.
type index struct {
	name, pk, sk string
	projection   types.ProjectionType
	include      []string
}

// schema describes table once (through the probe client) and remembers it.
func (r *Recorder) schema(ctx context.Context, table string) (*schema, error) {
	r.mu.Lock()
	s, ok := r.schemas[table]
	r.mu.Unlock()
	if ok {
		return s, nil
	}
	out, err := r.probe.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		return nil, fmt.Errorf("capacity: describe table %s: %w", table, err)
	}
	s = &schema{}
	s.pk, s.sk = keyAttrs(out.Table.KeySchema)
	for _, g := range out.Table.GlobalSecondaryIndexes {
		ix := index{name: deref(g.IndexName)}
		ix.pk, ix.sk = keyAttrs(g.KeySchema)
		if g.Projection != nil {
			ix.projection, ix.include = g.Projection.ProjectionType, g.Projection.NonKeyAttributes
		}
		s.indexes = append(s.indexes, ix)
	}
	r.mu.Lock()
	r.schemas[table] = s
	r.mu.Unlock()
	return s, nil
}

func keyAttrs(ks []types.KeySchemaElement) (pk, sk string) {
	for _, k := range ks {
		switch k.KeyType {
		case types.KeyTypeHash:
			pk = deref(k.AttributeName)
		case types.KeyTypeRange:
			sk = deref(k.AttributeName)
		}
	}
	return pk, sk
}

func (s *schema) index(name string) *index {
	for i := range s.indexes {
		if s.indexes[i].name == name {
			return &s.indexes[i]
		}
	}
	return nil
}

// primary is it's primary key attributes.
func (s *schema) primary(it item) item {
	key := item{s.pk: it[s.pk]}
	if s.sk != "" {
		key[s.sk] = it[s.sk]
	}
	return key
}

func (s *schema) keyText(it item) (pk, sk string) {
	return valueText(it[s.pk]), valueText(it[s.sk])
}

// identity names an item by its primary key.
func (s *schema) identity(it item) string {
	pk, sk := s.keyText(it)
	return pk + "\x00" + sk
}

// valueText is a key value as text: a string itself, a number its digits,
// a binary value in hex; "" when absent.
func valueText(av types.AttributeValue) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberB:
		return hex.EncodeToString(v.Value)
	}
	return ""
}

// indexAccesses are the index writes a table write makes ("Global secondary
// indexes in DynamoDB", write capacity units): an entry put when the item
// gains the index's keys, deleted when it loses them, both when they
// change, and updated when only projected attributes change; nothing when
// the item is in the index neither before nor after.
func (s *schema) indexAccesses(table string, before, after item) []Access {
	var out []Access
	for _, ix := range s.indexes {
		bk, inBefore := ix.key(before)
		ak, inAfter := ix.key(after)
		put := func(kind Kind, it item, size int) {
			out = append(out, Access{Kind: kind, Table: table, Index: ix.name,
				PK: valueText(it[ix.pk]), SK: valueText(it[ix.sk]), Bytes: size})
		}
		bEntry, aEntry := s.entry(ix, before), s.entry(ix, after)
		switch {
		case !inBefore && !inAfter:
		case !inAfter:
			put(IndexDelete, before, ItemSize(bEntry))
		case !inBefore:
			put(IndexPut, after, ItemSize(aEntry))
		case bk != ak:
			put(IndexDelete, before, ItemSize(bEntry))
			put(IndexPut, after, ItemSize(aEntry))
		case !reflect.DeepEqual(bEntry, aEntry):
			put(IndexUpdate, after, max(ItemSize(bEntry), ItemSize(aEntry)))
		}
	}
	return out
}

// key is an item's key in the index, and whether the item is in it (has
// every key attribute of the index).
func (ix index) key(it item) (string, bool) {
	pk, ok := it[ix.pk]
	if !ok {
		return "", false
	}
	if ix.sk == "" {
		return valueText(pk), true
	}
	sk, ok := it[ix.sk]
	if !ok {
		return "", false
	}
	return valueText(pk) + "\x00" + valueText(sk), true
}

// entry is an item's index entry: the table's keys, the index's keys and
// the projected attributes.
func (s *schema) entry(ix index, it item) item {
	if it == nil {
		return nil
	}
	if ix.projection == types.ProjectionTypeAll {
		return it
	}
	e := item{}
	for _, a := range append([]string{s.pk, s.sk, ix.pk, ix.sk}, ix.include...) {
		if v, ok := it[a]; ok && a != "" {
			e[a] = v
		}
	}
	return e
}

var (
	nameEqualsValue = regexp.MustCompile(`([#A-Za-z0-9_.]+)\s*=\s*(:[A-Za-z0-9_]+)`)
	valueEqualsName = regexp.MustCompile(`(:[A-Za-z0-9_]+)\s*=\s*([#A-Za-z0-9_.]+)`)
)

// queryPartition is the partition key value a Query asks for: the value its
// key condition sets pkAttr equal to.
func queryPartition(in *dynamodb.QueryInput, pkAttr string) (string, error) {
	if c, ok := in.KeyConditions[pkAttr]; ok && len(c.AttributeValueList) == 1 {
		return valueText(c.AttributeValueList[0]), nil
	}
	cond := deref(in.KeyConditionExpression)
	resolve := func(name string) string {
		if strings.HasPrefix(name, "#") {
			return in.ExpressionAttributeNames[name]
		}
		return name
	}
	for _, m := range nameEqualsValue.FindAllStringSubmatch(cond, -1) {
		if resolve(m[1]) == pkAttr {
			return valueText(in.ExpressionAttributeValues[m[2]]), nil
		}
	}
	for _, m := range valueEqualsName.FindAllStringSubmatch(cond, -1) {
		if resolve(m[2]) == pkAttr {
			return valueText(in.ExpressionAttributeValues[m[1]]), nil
		}
	}
	return "", fmt.Errorf("capacity: no partition key %s in the key condition %q", pkAttr, cond)
}
