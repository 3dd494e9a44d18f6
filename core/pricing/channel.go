package pricing

import "strings"

// Channel is the route a sale takes; each channel has its own rate per tier.
type Channel string

const (
	// ChannelList is the vendor's public price, offered on every tier.
	ChannelList Channel = "list"
	// ChannelReseller is the rate an authorised reseller sells at.
	ChannelReseller Channel = "reseller"
	// ChannelEBA is the Enterprise Business Agreement rate; the sample books
	// offer it only on the top tier (100,000 credits a year and up).
	ChannelEBA Channel = "eba"
)

// ChannelsMax is the number of channels a tier can price: one rate per known
// channel, so a book's rate maps are bounded by it.
const ChannelsMax = 3

// Channels lists every channel in a fixed order (list first).
func Channels() []Channel { return []Channel{ChannelList, ChannelReseller, ChannelEBA} }

// ParseChannel accepts exactly the lower-case codes of the API. It reports
// false for anything else, including the empty string: defaulting an absent
// channel to list is the request parser's decision, not this function's.
func ParseChannel(s string) (Channel, bool) {
	switch c := Channel(s); c {
	case ChannelList, ChannelReseller, ChannelEBA:
		return c, true
	}
	return "", false
}

func channelNames() string {
	names := make([]string, 0, ChannelsMax)
	for _, c := range Channels() {
		names = append(names, string(c))
	}
	return strings.Join(names, ", ")
}

// Mode says how a book turns the tiers into a price.
type Mode string

const (
	// ModeVolume prices every credit of an order at the rate of the tier the
	// year's total (purchased this year + this order) reaches.
	ModeVolume Mode = "volume"
	// ModeGraduated prices each credit at the rate of the tier its position
	// in the year falls in; credits already bought this year fill the lower
	// tiers first.
	ModeGraduated Mode = "graduated"
)

// ParseMode accepts "volume" and "graduated".
func ParseMode(s string) (Mode, bool) {
	switch m := Mode(s); m {
	case ModeVolume, ModeGraduated:
		return m, true
	}
	return "", false
}
