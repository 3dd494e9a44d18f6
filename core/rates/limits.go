package rates

// Limits on everything a rate card or an estimate request may contain. Input
// beyond a limit is refused with a clear error rather than processed slowly.
const (
	// CardBytesMax bounds a rate card's JSON text.
	CardBytesMax = 1 << 20
	// ServicesMax bounds the services of one card.
	ServicesMax = 200
	// ParamsPerServiceMax bounds the parameters one service publishes.
	ParamsPerServiceMax = 8
	// EnumValuesMax bounds the allowed values of one enum parameter.
	EnumValuesMax = 32
	// CardsMax bounds the cards of one Catalog.
	CardsMax = 100

	// RequestBytesMax bounds the body ParseEstimateRequest reads. The HTTP
	// layer has its own, lower, limit on every body.
	RequestBytesMax = 256 << 10
	// ItemsMax bounds the items of one batch estimate.
	ItemsMax = 1000
	// ParamsPerRequestMax bounds the parameters of one item. It is above
	// ParamsPerServiceMax so that a misspelt name is reported as unknown
	// rather than as "too many".
	ParamsPerRequestMax = 16
	// ProblemsMax bounds the problems one failed batch reports; the rest are
	// summarised.
	ProblemsMax = 100

	// Text lengths, in bytes.
	IDLenMax          = 64  // service id, parameter name, enum value
	VersionLenMax     = 64  // card version
	NameLenMax        = 120 // service name
	LabelLenMax       = 120 // parameter label
	DescriptionLenMax = 500 // service description
	UnitLenMax        = 32  // parameter unit
	ParamValueLenMax  = 64  // a parameter's value in a request

	// ParamDecimalsMax is the most fractional digits a number parameter may
	// declare (and so accept).
	ParamDecimalsMax = 6
	// ParamValueMax bounds the max a card may set for a number parameter.
	ParamValueMax = 1_000_000_000_000
	// RateMax bounds a rate, a base or a block in a rule.
	RateMax = 1_000_000
	// RateDecimalsMax is the most fractional digits of a rate or a base.
	RateDecimalsMax = 6
	// MultiplierMax bounds a quality multiplier of a size_quality rule.
	MultiplierMax = 1000
	// ExponentMin and ExponentMax bound k in a power_law rule, as decimal
	// text; ExponentDecimalsMax bounds its fractional digits.
	ExponentMin         = "0.5"
	ExponentMax         = "3"
	ExponentDecimalsMax = 4

	// ManyOutcomesWarnAt is the outcome count from which a base_plus_per_unit
	// estimate carries the many_outcomes warning.
	ManyOutcomesWarnAt = 10

	// powPrecision is the number of fractional digits the power law's scale
	// factor is computed to before the result is rounded up.
	powPrecision = 16
	// jsonDepthMax bounds the nesting of a card or a request.
	jsonDepthMax = 8
)
