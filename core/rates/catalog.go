package rates

import (
	"fmt"
	"sort"
	"time"

	"cloudcredits/core"
)

// Catalog holds every version of the rate card, so that the vendor can
// change rates without a deploy and an old estimate can be explained by the
// card it named.
type Catalog struct {
	cards []*Card // by EffectiveFrom, earliest first
}

// NewCatalog validates the cards and returns them as a catalog. Every
// problem is reported at once: an invalid card ("cards[1].services[0].id"),
// a version given twice, two cards taking effect at the same instant (which
// would make At ambiguous). The cards must not be modified afterwards.
func NewCatalog(cards ...*Card) (*Catalog, error) {
	var p core.Problems
	switch n := len(cards); {
	case n == 0:
		p.Add("cards", "must list at least one card")
	case n > CardsMax:
		p.Add("cards", "has %d cards; at most %d are allowed", n, CardsMax)
		return nil, p.Err()
	}
	versions := map[string]int{}
	starts := map[time.Time]int{}
	for i, c := range cards {
		prefix := fmt.Sprintf("cards[%d]", i)
		if c == nil {
			p.Add(prefix, "is missing")
			continue
		}
		p.Merge(prefix, c.Validate())
		if j, dup := versions[c.Version]; dup {
			p.Add(prefix+".version", "duplicates cards[%d].version %q", j, c.Version)
		} else {
			versions[c.Version] = i
		}
		at := c.EffectiveFrom.UTC()
		if j, dup := starts[at]; dup {
			p.Add(prefix+".effective_from", "is the same instant as cards[%d].effective_from", j)
		} else {
			starts[at] = i
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	sorted := append([]*Card(nil), cards...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].EffectiveFrom.Before(sorted[j].EffectiveFrom) })
	return &Catalog{cards: sorted}, nil
}

// At returns the card in effect at t: the one with the latest EffectiveFrom
// not after t. Before the first card takes effect there is none (not_found).
func (cat *Catalog) At(t time.Time) (*Card, error) {
	i := sort.Search(len(cat.cards), func(i int) bool { return cat.cards[i].EffectiveFrom.After(t) })
	if i == 0 {
		return nil, core.Errorf(core.CodeNotFound, "no rate card is in effect at %s; the first takes effect at %s",
			t.UTC().Format(time.RFC3339), cat.cards[0].EffectiveFrom.UTC().Format(time.RFC3339))
	}
	return cat.cards[i-1], nil
}

// Version returns the card with the given version.
func (cat *Catalog) Version(v string) (*Card, bool) {
	for _, c := range cat.cards {
		if c.Version == v {
			return c, true
		}
	}
	return nil, false
}

// Cards returns every card, earliest first.
func (cat *Catalog) Cards() []*Card {
	return append([]*Card(nil), cat.cards...)
}
