package core

import "strings"

// Currency is a prepaid credit currency. Every lot and every service rate is
// in exactly one currency, and balances of one never substitute for another.
type Currency string

const (
	Cloud Currency = "cloud" // Cloud Credits
	Forma Currency = "forma" // Forma Credits
	Flex  Currency = "flex"  // Flex tokens
)

// Currencies lists every known currency in a fixed order.
func Currencies() []Currency { return []Currency{Cloud, Forma, Flex} }

// ParseCurrency accepts exactly the lower-case codes of the API.
func ParseCurrency(s string) (Currency, bool) {
	switch c := Currency(s); c {
	case Cloud, Forma, Flex:
		return c, true
	}
	return "", false
}

// Name is the currency's human name, used in messages such as
// "you hold 500 forma credits; this service takes cloud credits".
func (c Currency) Name() string {
	switch c {
	case Cloud:
		return "cloud credits"
	case Forma:
		return "forma credits"
	case Flex:
		return "flex tokens"
	}
	return strings.TrimSpace(string(c)) + " credits"
}
