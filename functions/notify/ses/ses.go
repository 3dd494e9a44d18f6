// Package ses sends the ledger's notifications through Amazon SES (API v2,
// SendEmail), the production notify.Sender. It wraps one dependency and
// nothing else: it never marks a notification sent and never logs an
// address beyond its domain.
package ses

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cloudcredits/core/ledger"
	"cloudcredits/functions/notify"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// API is the part of the SES client Sender uses (a test may stand in).
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Sender sends each notification as one plain-text UTF-8 email from From
// (an address of the verified identity the role may send as: NOTIFY_FROM).
type Sender struct {
	Client API
	From   string
}

var _ notify.Sender = Sender{}

// Send sends n. A notification without a recipient is refused
// (notify.ErrNoRecipient) and stays pending.
func (s Sender) Send(ctx context.Context, n ledger.Notification) error {
	switch {
	case s.Client == nil || s.From == "":
		return errors.New("ses: sender not configured (client and From are required)")
	case n.To == "":
		return fmt.Errorf("ses: notification %s: %w", n.ID, notify.ErrNoRecipient)
	case strings.ContainsAny(n.To+n.Subject, "\r\n"):
		return fmt.Errorf("ses: notification %s: a header holds a line break", n.ID)
	}
	utf8 := aws.String("UTF-8")
	_, err := s.Client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &types.Destination{ToAddresses: []string{n.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(n.Subject), Charset: utf8},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(n.Body), Charset: utf8}},
		}},
		EmailTags: []types.MessageTag{{Name: aws.String("kind"), Value: aws.String(string(n.Kind))}},
	})
	if err != nil {
		// The SDK's error names neither address; say which domain it was for.
		return fmt.Errorf("ses: send %s to a recipient at %s: %w", n.ID, notify.Domain(n.To), err)
	}
	return nil
}
