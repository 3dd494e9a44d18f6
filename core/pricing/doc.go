// Package pricing is what credits cost in money: versioned price books per
// currency, the catalog that picks the book in effect at a time, and the
// price of an order (POST /v1/prices, checkout and quotes all use
// Catalog.Price, so a quote and a charge at the same time never disagree).
//
// # What it must never do
//
// It is part of the pure core: no I/O, no clock, no randomness, no floats.
// Books arrive as bytes (ParseBook) and the time of pricing as an argument
// (Catalog.Price(req, at)). Money and credits are shopspring decimals
// compared with Cmp/Equal; money is USD, computed exactly and rounded once,
// half-up to cents, by core.RoundMoney. It builds for GOOS=js GOARCH=wasm and
// runs in the browser unchanged. It never takes a price from a client: a
// request carries quantities, the book supplies the rates.
//
// # Rules chosen
//
// Tiers are [from, to): from is included, to is not. The tier "1,000–4,999"
// is from 1000 to 5000, so 4,999 credits are in it and 5,000 in the next.
// A book's tiers start at 0, meet without gaps or overlaps, are listed in
// ascending order, and the last one is open-ended; at most TiersMax.
//
// Volume mode (the default): every credit of the order costs the rate of the
// tier that the annual volume reaches, annual volume being
// purchased_this_year + the credits the order buys. 800 bought and 300
// ordered reach 1,100: all 300 at the 1,000–4,999 rate.
//
// Graduated mode: credits bought earlier this year occupy positions
// [0, purchased); the order occupies [purchased, purchased + credits), and
// each credit costs the rate of the tier its position falls in, so a tier
// [from, to) holds exactly to − from credits. 800 bought and 300 ordered:
// 200 at the under-1,000 rate and 100 at the 1,000–4,999 rate. The price
// lists one line per tier, each rounded to cents; the subtotal is their sum.
//
// Channels: list, reseller, eba. A channel missing from a tier is not sold
// at that tier. List is sold on every tier, no rate exceeds its tier's list
// rate (so savings are never negative), and a channel once offered is
// offered on every higher tier, so "offered from N credits a year" is always
// true. In the sample books eba exists only on the top tier (100,000 and
// up); an order that does not reach it is refused with invalid_request:
// "channel eba is offered from 100,000 credits a year; this order reaches
// 5,000". In graduated mode every credit of the order must fall in a tier
// that sells the channel.
//
// Packs: orders buy whole packs (PackSize credits, 100 in the samples). A
// quantity of credits is rounded up to the next whole pack: 1 credit buys
// one pack of 100, and the price reports credits "100" (requested_credits
// "1"). The credits bought, not the credits asked for, count toward the
// annual volume: asking for 4,999 credits buys 50 packs, 5,000 credits, and
// so reaches the 5,000–19,999 tier, while 99 bought + 4,900 ordered (an
// annual volume of 4,999) stay in 1,000–4,999. A request may name packs
// instead of credits (exactly one of the two); packs is a whole number and,
// like every whole-number field of the API, is sent as a JSON integer
// (credits and money are decimal strings). Answers show packs as a decimal
// string beside the credits.
//
// Amounts: subtotal = credits × rate (per tier line in graduated mode),
// rounded half-up to cents. list_total is the same order on the list
// channel under the same book and mode; savings = list_total − subtotal.
//
// Unit price: subtotal / credits, rounded half-up to four decimals and shown
// with two to four ("1.10", "1.1833"); in volume mode it is the tier's rate
// exactly (rates carry at most RateScaleMax = 4 decimals). It is for display
// and comparison; no amount is computed from it.
//
// Benchmarks: a book may carry the seed's buyer-side table, one band per
// annual volume ([from, to) like tiers), each with the standard channel
// rate, the market rate and the advisory best rate as ranges that meet or
// overlap. A price reports the band of its annual volume and its Position in
// it: above_channel, within_channel, within_market, within_advisory or
// below_advisory, judged on the exact unit price; a price in two ranges
// counts in the cheaper one (0.70 in the 100,000-and-up band is
// within_market, not within_channel; 0.56 there is within_advisory, since
// the seed's advisory 0.45–0.58 overlaps its market 0.55–0.70). A book without benchmarks (the 2013
// book, the sample forma and flex books) prices without a benchmark object.
//
// Catalog: the book of a currency in effect at t is the one with the latest
// effective_from ≤ t. Two books of a currency may not share a version or an
// effective time. Catalog.Version finds a past book by version, so a quote
// is honoured with the book it was priced with.
//
// Sales sunset (stopping sales of a currency at a date) is not decided here
// yet; Catalog.Price is the one place such a check (sales_closed) belongs.
//
// # Shapes
//
// A book document (testdata/pricebooks/*.json):
//
//	{"version": "cloud-2024-01", "currency": "cloud",
//	 "effective_from": "2024-01-01T00:00:00Z", "pack_size": "100",
//	 "mode": "volume", "notes": "...",
//	 "tiers": [{"from": "0", "to": "1000", "name": "under 1,000",
//	            "rates": {"list": "1.25", "reseller": "1.25"}}, ...],
//	 "benchmarks": [{"from": "0", "to": "1000", "name": "under 1,000",
//	                 "channel": {"low": "1.20", "high": "1.25"},
//	                 "market": {"low": "1.10", "high": "1.20"},
//	                 "advisory": {"low": "0.95", "high": "1.10"}}, ...]}
//
// A price (Price.MarshalJSON); lines only in graduated mode, benchmark only
// when the book has benchmarks:
//
//	{"credits": "5000", "requested_credits": "5000", "packs": "50",
//	 "pack_size": "100",
//	 "tier": {"from": "5000", "to": "20000", "name": "5,000–19,999"},
//	 "unit_price": "1.10", "subtotal": "5500.00", "list_total": "6250.00",
//	 "savings": "750.00", "price_book_version": "cloud-2024-01",
//	 "currency": "cloud", "channel": "reseller", "mode": "volume",
//	 "purchased_this_year": "0", "annual_volume": "5000",
//	 "lines": [{"tier": {...}, "credits": "200", "unit_price": "1.25", "amount": "250.00"}],
//	 "benchmark": {"band": "5,000–19,999",
//	               "channel_range": {"low": "0.98", "high": "1.10"},
//	               "market_range": {"low": "0.82", "high": "0.98"},
//	               "advisory_range": {"low": "0.70", "high": "0.82"},
//	               "position": "within_channel", "message": "..."}}
package pricing
