package ses_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloudcredits/core/ledger"
	"cloudcredits/functions/notify"
	"cloudcredits/functions/notify/ses"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

func client(url string) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func note() ledger.Notification {
	return ledger.Notification{ID: "withdrawal:acme:ind:2031-03-10T09:00:00Z", Contract: "acme",
		Kind: ledger.KindWithdrawalNotice, To: "admin@acme.example", Subject: "Crédits withdrawn",
		Body: "Line one.\n", CreatedAt: time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC), State: ledger.NotificationPending}
}

func TestSendEmailRequest(t *testing.T) {
	var got struct {
		FromEmailAddress string
		Destination      struct{ ToAddresses []string }
		Content          struct {
			Simple struct {
				Subject struct{ Data, Charset string }
				Body    struct {
					Text struct{ Data, Charset string }
				}
			}
		}
	}
	var path, method, auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, method, auth = r.URL.Path, r.Method, r.Header.Get("Authorization")
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("request body %s: %v", body, err)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"MessageId":"m-1"}`)
	}))
	defer srv.Close()
	s := ses.Sender{Client: client(srv.URL), From: "noreply@cc.example"}
	if err := s.Send(context.Background(), note()); err != nil {
		t.Fatal(err)
	}
	if method != http.MethodPost || path != "/v2/email/outbound-emails" {
		t.Errorf("request %s %s, want POST /v2/email/outbound-emails", method, path)
	}
	if !strings.Contains(auth, "AKIDTEST") || !strings.Contains(auth, "/ses/aws4_request") {
		t.Errorf("Authorization %q: want a SigV4 signature for ses", auth)
	}
	n := note()
	c := got.Content.Simple
	if got.FromEmailAddress != "noreply@cc.example" || len(got.Destination.ToAddresses) != 1 || got.Destination.ToAddresses[0] != n.To ||
		c.Subject.Data != n.Subject || c.Subject.Charset != "UTF-8" || c.Body.Text.Data != n.Body || c.Body.Text.Charset != "UTF-8" {
		t.Errorf("request = %+v, want from noreply@cc.example to %s with the notice's subject and body in UTF-8", got, n.To)
	}
}

func TestSendFailureNamesOnlyTheDomain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "MessageRejected")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message":"Email address is not verified."}`)
	}))
	defer srv.Close()
	err := ses.Sender{Client: client(srv.URL), From: "noreply@cc.example"}.Send(context.Background(), note())
	if err == nil {
		t.Fatal("a rejected send returned nil, want an error (it stays pending)")
	}
	if strings.Contains(err.Error(), "admin@") || !strings.Contains(err.Error(), "acme.example") {
		t.Errorf("error %q: want the domain and not the address", err)
	}
}

func TestNoRecipientIsRefused(t *testing.T) {
	n := note()
	n.To = ""
	err := ses.Sender{Client: client("http://127.0.0.1:1"), From: "noreply@cc.example"}.Send(context.Background(), n)
	if !errors.Is(err, notify.ErrNoRecipient) {
		t.Errorf("Send without a recipient = %v, want ErrNoRecipient", err)
	}
}
