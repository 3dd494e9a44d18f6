package capacity

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB's capacity units ("Service, account, and table quotas in Amazon
// DynamoDB", capacity unit sizes; "DynamoDB item sizes and formats").
const (
	// WriteUnitBytes is the item size one write capacity unit covers; a
	// write rounds each item up to a whole number of these.
	WriteUnitBytes = 1024
	// ReadUnitBytes is the size one strongly consistent read capacity unit
	// covers; a GetItem rounds each item up, a Query the sum of its items.
	ReadUnitBytes = 4096
	// TransactionalFactor: a transactional write or read costs twice the
	// standard one (a prepare and a commit of every item).
	TransactionalFactor = 2
	// EventualFactor: an eventually consistent read costs half a strong one.
	EventualFactor = 0.5
)

// ItemSize is an item's size by DynamoDB's rules ("DynamoDB item sizes and
// formats"): the sum over its attributes of the name's length and the
// value's size.
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, av := range item {
		n += len(name) + valueSize(av)
	}
	return n
}

// valueSize is one value's size: a string or binary its bytes; a number 1
// byte per two significant digits plus 1; a Boolean or null 1 byte; a list or
// map 3 bytes plus 1 byte and the size of each element (a map's element
// names included); a set the sum of its elements.
func valueSize(av types.AttributeValue) int {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberSS:
		return sizeOfAll(v.Value, func(s string) int { return len(s) })
	case *types.AttributeValueMemberNS:
		return sizeOfAll(v.Value, numberSize)
	case *types.AttributeValueMemberBS:
		return sizeOfAll(v.Value, func(b []byte) int { return len(b) })
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + len(v.Value) + ItemSize(v.Value)
	}
	return 1 // BOOL, NULL
}

// sizeOfAll is the sum of size over a set's members.
func sizeOfAll[T any](members []T, size func(T) int) int {
	n := 0
	for _, m := range members {
		n += size(m)
	}
	return n
}

// numberSize is a number's size: its significant digits (leading and
// trailing zeros trimmed, sign, point and exponent left out), two per byte,
// plus one byte.
func numberSize(text string) int {
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		text = text[:i]
	}
	digits := strings.Trim(strings.NewReplacer("-", "", "+", "", ".", "").Replace(text), "0")
	return (len(digits)+1)/2 + 1
}

// units rounds size up to whole units of unit bytes, at least one: an
// absent or empty item still costs one unit.
func units(size, unit int) int {
	return max(1, (size+unit-1)/unit)
}
