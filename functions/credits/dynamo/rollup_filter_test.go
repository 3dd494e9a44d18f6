package dynamo

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// The deploy template's event source filters (the roll-up function's
// FilterCriteria) let through exactly the stream records RollUp reads:
// every change of an item that keeps or kept a consumption
// (keepsConsumption of its old or new image), and nothing else,
// so no usage or entry is silently dropped before the function sees it.
func TestTemplateStreamFilterIsWhatRollUpReads(t *testing.T) {
	patterns := rollupFilters(t)
	at := time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)
	c := ledger.Consumption{ID: ledger.KeyedID("acme", "job-1", at, 7), Contract: "acme", User: "alice", Entity: "e",
		Currency: core.Cloud, Credits: dec("3"), Debits: []ledger.Debit{{Lot: "L1", Credits: dec("3")}}, CreatedAt: at, Version: 1}
	rec := ledger.IdempotencyRecord{Contract: "acme", Key: "job-1", Fingerprint: "f", Response: []byte("{}"),
		CreatedAt: at, ExpiresAt: at.Add(ledger.IdempotencyRetention)}
	kept := keptItem(rec, c)
	kept.i(AttrEntriesNs, 1)
	refunded := c
	refunded.Refunded, refunded.Version = dec("1"), 2
	// Each change as the stream carries it: the item before and after.
	changes := map[string][2]item{
		"a spend: a key's record keeping a consumption": {nil, kept},
		"a refund of it": {kept, keptItem(rec, refunded)},
		"its key used again by a hold after 35 days": {kept, idemItem(rec)},
		"a consumption in its own item":              {nil, consumptionItem(c)},
		"a key's record alone":                       {nil, idemItem(rec)},
		"a key's record alone, written again":        {idemItem(rec), idemItem(rec)},
		"a lot":                                      {nil, lotItem(lot("L1", "10", "10"))},
		"an entry":                                   {nil, entryItem(ledger.ConsumeEntries(c)[0], 1)},
		"a usage row": {nil, usageItem(ledger.Usage{Key: ledger.UsageKey{Contract: "acme", Month: "2031-03"}, Credits: dec("1"), Count: 1},
			usageSK(ledger.UsageKey{Contract: "acme", Month: "2031-03"}))},
	}
	for what, ch := range changes {
		old, now := ch[0], ch[1]
		image := map[string]any{"Keys": streamJSON(item{AttrPK: now[AttrPK], AttrSK: now[AttrSK]}), "NewImage": streamJSON(now)}
		if old != nil {
			image["OldImage"] = streamJSON(old)
		}
		passes := false
		for _, p := range patterns {
			passes = passes || matches(p, map[string]any{"dynamodb": image})
		}
		if want := old != nil && keepsConsumption(old) || keepsConsumption(now); passes != want {
			t.Errorf("%s: the template's filter lets it through %v; RollUp reads it %v", what, passes, want)
		}
	}
}

// rollupFilters reads the filter patterns of the roll-up function's
// stream event in the deploy template.
func rollupFilters(t *testing.T) []map[string]any {
	t.Helper()
	b, err := os.ReadFile("../../../infra/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources struct {
			RollupFunction struct {
				Properties struct {
					Events map[string]struct {
						Type       string `yaml:"Type"`
						Properties struct {
							FilterCriteria struct {
								Filters []struct {
									Pattern string `yaml:"Pattern"`
								} `yaml:"Filters"`
							} `yaml:"FilterCriteria"`
						} `yaml:"Properties"`
					} `yaml:"Events"`
				} `yaml:"Properties"`
			} `yaml:"RollupFunction"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for name, ev := range tpl.Resources.RollupFunction.Properties.Events {
		if ev.Type != "DynamoDB" {
			continue
		}
		for _, f := range ev.Properties.FilterCriteria.Filters {
			var p map[string]any
			if err := json.Unmarshal([]byte(f.Pattern), &p); err != nil {
				t.Fatalf("event %s: pattern %q: %v", name, f.Pattern, err)
			}
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("the roll-up function's stream event has no filter patterns")
	}
	return out
}

// matches applies a Lambda event filter pattern, in the part of the
// syntax the template uses: nested objects, and leaves that list the
// values allowed (strings) or {"exists": bool}.
func matches(pattern, record map[string]any) bool {
	for k, want := range pattern {
		got, present := record[k]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matches(w, sub) {
				return false
			}
		case []any:
			ok := false
			for _, alt := range w {
				switch a := alt.(type) {
				case string:
					ok = ok || present && got == a
				case map[string]any:
					if e, isExists := a["exists"].(bool); isExists {
						ok = ok || present == e
					}
				}
			}
			if !ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// streamJSON is an item as a stream record's JSON carries it: each
// attribute as {"S": …}, {"N": …} and so on.
func streamJSON(it item) map[string]any {
	out := map[string]any{}
	for name, av := range it {
		switch v := av.(type) {
		case *types.AttributeValueMemberS:
			out[name] = map[string]any{"S": v.Value}
		case *types.AttributeValueMemberN:
			out[name] = map[string]any{"N": v.Value}
		default:
			out[name] = map[string]any{"other": render(av)}
		}
	}
	return out
}
