// Package directory holds what the storage adapters share about their id
// directories (which contract uses a lot or order id). It reads and writes
// nothing itself.
package directory

import (
	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// OneContract returns the one contract a directory lists for the id of a
// kind ("lot", "order"). Ids are unique within a contract, not across
// contracts, so an id that two contracts use is refused rather than guessed.
func OneContract(kind, id string, contracts []string) (string, error) {
	switch len(contracts) {
	case 0:
		return "", ledger.NotFound(kind, id)
	case 1:
		return contracts[0], nil
	}
	return "", core.Errorf(core.CodeConflict, "%s id %s is used by more than one contract (%s and %s); name the contract",
		kind, id, contracts[0], contracts[1])
}
