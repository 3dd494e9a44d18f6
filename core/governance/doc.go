// Package governance is the buyer's side of the ledger: usage reports,
// alerts, the expiry calendar, the entity-coverage audit and the forecast
// with its purchase advisor (PRODUCT.md, "Governance"). It is pure: callers
// read the contract, lots, usage roll-ups, attempts and users, pass the time
// in, and get a report back. It must never do I/O, read the clock, or use
// floating point — quantities are decimals and forecasts are rounded once,
// by RoundForecast, to whole credits.
//
// Rules chosen where PRODUCT.md and the seed are silent:
//
//   - Reports read the monthly roll-ups (ledger.Usage), never consumptions,
//     so their cost follows the distinct keys of a period. The price is that
//     single consumptions are not visible: a roll-up row of count 1 above the
//     threshold is one job; a row whose average is above it holds at least
//     one; a large job inside a row with a lower average is missed.
//   - The monthly budget baseline is in credits and applies to each currency
//     on its own; a zero baseline turns the 15% checks off. Baseline alerts
//     look at the last complete month and the current one.
//   - Burn rate: the average monthly consumption of the last BurnMonths (3)
//     complete months, per user. The projection (Project) spends each user's
//     burn on that user's individual lots first and then on the shared pool,
//     soonest end first — the ledger's burn order — stepping month by month
//     and stopping at every lot's start and end. What a lot holds when it
//     ends is "forecast to expire unused".
//   - Audit: consumption found in the roll-ups by an uncovered entity or by a
//     user whose kind (as it is now) is contractor without coverage,
//     education or guest counts as a finding, as does any refused attempt of
//     those reasons. Exposure is the seed's typical finding value range per
//     risk found (not per occurrence: the seed values a finding). Guest
//     identities have no seed row; they take the education row's value
//     (see Risks).
//   - Forecast method: Holt's linear exponential smoothing with a damped
//     trend (α 0.5, β 0.2, φ 0.8), per service, on the last 12 complete
//     months. Why: twelve points are too few to fit seasonality or an ARIMA
//     model honestly; a trailing average ignores growth (a simulation team
//     scaling its meshes up); an undamped trend extrapolates one spike into a
//     year of overspend. Holt's damped trend follows a level that moves,
//     keeps a slope that fades, is two lines of decimal arithmetic, and is
//     explainable to a procurement team. The parameters are fixed, not
//     fitted, so the same history always gives the same forecast. The
//     forecast is backtested on the contract's own history (the last 3
//     months held out) and the report carries MAE and MAPE; the golden
//     tests log the backtest on the synthetic contracts.
//   - Purchase advisor: annual volume = forecast × (1 + margin), the margin
//     being the backtest MAPE within [10%, 30%] — as wide as the model has
//     proven wrong. It is priced on every channel with the price book in
//     effect (the caller's Pricer) and placed against the seed's market and
//     advisory bands. The recommended purchase subtracts what the live lots
//     are forecast to still serve.
//   - Expiry extension vs price cut: the annual volume bought at once meets
//     three equally likely demands, forecast × (1 − v), × 1, × (1 + v), v the
//     mean absolute deviation of monthly demand over its mean (how spiky the
//     year was; deliberately treated as an annual swing, since a delayed
//     campaign moves a whole quarter). Credits saved by an e-month extension
//     are the expected unused credits without it minus with it (the
//     extended credits serve e more months of demand, burnt first), valued
//     at the contract's channel price; a price cut saves no credits and is
//     worth the cut × the purchase. The larger value wins, and the report
//     says which for this contract's demand.
//
// The currency sunset (sales stop, lots re-expire, the successor pays for
// the retiring currency's services) lives in core/ledger (sunset.go): it
// moves money, so it is the ledger's. Alerts go to the buyer through the
// ledger's notification outbox: AlertNotifications names each alert event
// (notify.go), and the sweeper records and sends them.
package governance
