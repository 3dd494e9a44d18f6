package dynamo

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"cloudcredits/core"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Transient failures.
//
// DynamoDB throttles (ProvisionedThroughputExceededException,
// ThrottlingException, RequestLimitExceeded, a transaction cancelled for
// ThrottlingError), fails inside (5xx), or does not answer (the connection
// drops, the attempt times out). The client retries each call with full
// jitter up to RetryAttemptsMax attempts, each bounded by AttemptTimeout:
// Configure sets that retryer on a client. What still fails after the
// retries is answered as core's CodeUnavailable, so the API answers 503 with
// Retry-After instead of an internal error.
//
// Retrying is safe for money. TransactWriteItems carries a client request
// token the SDK fills once per call, so DynamoDB applies a retried
// transaction at most once; and every Apply writes its idempotency record
// under attribute_not_exists in the same transaction, so a re-planned
// request whose first write did land (its answer lost) fails that condition
// and replays the stored answer, never spending twice.
const (
	// RetryAttemptsMax is the attempts of one call, the first included.
	// DynamoDB's own guidance for throttling is to retry with exponential
	// backoff; ten attempts from RetryBackoffBase reach RetryBackoffMax and
	// bound one call to about five seconds of waiting.
	RetryAttemptsMax = 10
	// RetryBackoffBase is the ceiling of the first retry's random delay; it
	// doubles per attempt up to RetryBackoffMax.
	RetryBackoffBase = 25 * time.Millisecond
	RetryBackoffMax  = time.Second
	// AttemptTimeout bounds one attempt: a call DynamoDB has not answered by
	// then is treated as unanswered and retried.
	AttemptTimeout = 5 * time.Second
	// RetryAfterSeconds is what a caller is told to wait after the retries
	// are spent.
	RetryAfterSeconds = 1
)

// Configure sets o's retryer (NewRetryer) and an HTTP client whose attempts
// time out after AttemptTimeout. Pass it to dynamodb.NewFromConfig or
// dynamodb.New for a client the deployed functions use.
func Configure(o *dynamodb.Options) {
	o.Retryer = NewRetryer()
	o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(AttemptTimeout)
}

// NewRetryer retries throttling, 5xx and connection failures (the SDK's
// standard set) RetryAttemptsMax times with full jitter. It has no
// client-side retry quota: a quota shared by a process's concurrent calls
// would turn a burst of throttling into refusals of calls that were never
// tried, and each call's attempts are bounded anyway.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = RetryAttemptsMax
		o.MaxBackoff = RetryBackoffMax
		o.Backoff = fullJitter{}
		o.RateLimiter = ratelimit.None
	})
}

// fullJitter waits a random time in [0, min(RetryBackoffMax, base·2^(attempt−1))).
type fullJitter struct{}

func (fullJitter) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	ceiling := RetryBackoffMax
	if attempt >= 1 && attempt < 16 {
		ceiling = min(RetryBackoffBase<<(attempt-1), RetryBackoffMax)
	}
	return rand.N(ceiling) + time.Millisecond, nil
}

// withUnavailable returns a client like c whose transient failures, after
// its retries, also carry CodeUnavailable. The original error stays in the
// chain, so errors.As still finds a TransactionCanceledException.
func withUnavailable(c *dynamodb.Client) *dynamodb.Client {
	return dynamodb.New(c.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(slices.Clone(o.APIOptions), func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("CloudCreditsUnavailable",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleInitialize(ctx, in)
					if err != nil && transient(ctx, err) {
						err = &unavailableError{err: err}
					}
					return out, md, err
				}), middleware.Before)
		})
	})
}

// unavailableError is a transient failure: a *core.Error of CodeUnavailable
// to errors.As, with the SDK's error beside it.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }

func (e *unavailableError) Unwrap() []error {
	return []error{core.Errorf(core.CodeUnavailable,
		"the ledger's store is busy or did not answer; retry in %d s with the same Idempotency-Key", RetryAfterSeconds).
		WithDetail("retry_after_seconds", RetryAfterSeconds), e.err}
}

// throttleCodes are DynamoDB's error codes for a request it refused for
// load, and a transaction's cancellation reasons for the same.
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true, "ProvisionedThroughputExceeded": true,
	"ThrottlingException": true, "ThrottlingError": true, "RequestLimitExceeded": true,
	"TransactionInProgressException": true, "InternalServerError": true, "ServiceUnavailable": true,
}

// transient reports whether err is DynamoDB throttling, failing inside, or
// not answering — not a refusal of the request itself (a failed condition,
// a validation error), and not the caller giving up.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() == context.Canceled {
		return false
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		throttled := false
		for _, r := range tce.CancellationReasons {
			switch code := aws.ToString(r.Code); {
			case throttleCodes[code]:
				throttled = true
			case code != "" && code != "None":
				return false // a condition or conflict: the caller re-plans
			}
		}
		return throttled
	}
	var api smithy.APIError
	if errors.As(err, &api) && throttleCodes[api.ErrorCode()] {
		return true
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() >= 500 {
		return true
	}
	var quota *ratelimit.QuotaExceededError
	if errors.As(err, &quota) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
