package pricing

import (
	"strings"
	"testing"

	"cloudcredits/core"
)

func TestParseRequestAccepts(t *testing.T) {
	tests := []struct {
		name, body string
		want       Request
	}{
		{"all fields", `{"currency": "cloud", "credits": "5000", "channel": "reseller", "purchased_this_year": "800"}`,
			Request{Currency: core.Cloud, Credits: dec("5000"), Channel: ChannelReseller, PurchasedThisYear: dec("800")}},
		{"defaults: list channel, nothing bought", `{"currency": "forma", "credits": "12.5"}`,
			Request{Currency: core.Forma, Credits: dec("12.5"), Channel: ChannelList}},
		{"packs instead of credits", `{"currency": "flex", "packs": 50, "channel": "eba"}`,
			Request{Currency: core.Flex, Packs: dec("50"), Channel: ChannelEBA}},
		{"whitespace around", " \n{\"currency\":\"cloud\",\"credits\":\"1\"}\n ",
			Request{Currency: core.Cloud, Credits: dec("1"), Channel: ChannelList}},
		{"largest quantities", `{"currency": "cloud", "credits": "1000000000000", "purchased_this_year": "1000000000000"}`,
			Request{Currency: core.Cloud, Credits: dec("1000000000000"), Channel: ChannelList, PurchasedThisYear: dec("1000000000000")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got.Currency != tt.want.Currency || got.Channel != tt.want.Channel ||
				!got.Credits.Equal(tt.want.Credits) || !got.Packs.Equal(tt.want.Packs) ||
				!got.PurchasedThisYear.Equal(tt.want.PurchasedThisYear) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseRequestRefuses(t *testing.T) {
	tests := []struct {
		name, body string
		want       map[string]string // field → part of its message
	}{
		{"empty body", ``, map[string]string{"body": "is empty"}},
		{"array", `["cloud"]`, map[string]string{"body": "must be a JSON object"}},
		{"null", `null`, map[string]string{"body": "must be a JSON object"}},
		{"syntax", `{"currency": "cloud",}`, map[string]string{"body": "not valid JSON"}},
		{"unterminated", `{"currency": "cloud"`, map[string]string{"body": "ends before"}},
		{"cut after key", `{"currency"`, map[string]string{"body": "ends before"}},
		{"cut after brace", `{`, map[string]string{"body": "ends before"}},
		{"trailing data", `{"currency": "cloud", "credits": "1"} {}`, map[string]string{"body": "data after"}},
		{"missing everything", `{}`, map[string]string{"currency": "is required", "credits": "is required (or send packs"}},
		{"credits as number", `{"currency": "cloud", "credits": 5000}`, map[string]string{"credits": "not a JSON number: send decimals as strings"}},
		{"credits as bool", `{"currency": "cloud", "credits": true}`, map[string]string{"credits": "must be a string"}},
		{"credits zero", `{"currency": "cloud", "credits": "0"}`, map[string]string{"credits": "greater than zero"}},
		{"credits negative", `{"currency": "cloud", "credits": "-5"}`, map[string]string{"credits": "greater than zero"}},
		{"credits huge", `{"currency": "cloud", "credits": "1000000000001"}`, map[string]string{"credits": "at most 1000000000000"}},
		{"credits too long", `{"currency": "cloud", "credits": "` + strings.Repeat("9", 100) + `"}`, map[string]string{"credits": "too long"}},
		{"credits over-precise", `{"currency": "cloud", "credits": "1.0000001"}`, map[string]string{"credits": "more than 6 decimal places"}},
		{"credits exponent", `{"currency": "cloud", "credits": "1e3"}`, map[string]string{"credits": "must be a decimal number"}},
		{"credits empty", `{"currency": "cloud", "credits": ""}`, map[string]string{"credits": "is required"}},
		{"both credits and packs", `{"currency": "cloud", "credits": "100", "packs": 1}`, map[string]string{"packs": "not both"}},
		{"packs fractional", `{"currency": "cloud", "packs": 1.5}`, map[string]string{"packs": "a JSON integer such as 50, not \"1.5\""}},
		{"packs with a zero fraction", `{"currency": "cloud", "packs": 50.0}`, map[string]string{"packs": "a JSON integer such as 50, not \"50.0\""}},
		{"packs with an exponent", `{"currency": "cloud", "packs": 5e1}`, map[string]string{"packs": "a JSON integer such as 50, not \"5e1\""}},
		{"packs zero", `{"currency": "cloud", "packs": 0}`, map[string]string{"packs": "greater than zero"}},
		{"packs negative", `{"currency": "cloud", "packs": -1}`, map[string]string{"packs": "greater than zero"}},
		{"packs huge", `{"currency": "cloud", "packs": 10000000000000}`, map[string]string{"packs": "at most 1000000000000"}},
		{"packs as a string", `{"currency": "cloud", "packs": "50"}`, map[string]string{"packs": "a JSON integer such as 50, not a string"}},
		{"packs as a boolean", `{"currency": "cloud", "packs": true}`, map[string]string{"packs": "a JSON integer such as 50, not a boolean"}},
		{"unknown currency", `{"currency": "usd", "credits": "1"}`, map[string]string{"currency": `must be one of cloud, forma, flex, got "usd"`}},
		{"currency in capitals", `{"currency": "Cloud", "credits": "1"}`, map[string]string{"currency": "must be one of"}},
		{"currency as number", `{"currency": 1, "credits": "1"}`, map[string]string{"currency": "must be a string"}},
		{"unknown channel", `{"currency": "cloud", "credits": "1", "channel": "direct"}`, map[string]string{"channel": `got "direct"`}},
		{"empty channel", `{"currency": "cloud", "credits": "1", "channel": ""}`, map[string]string{"channel": "must be one of list, reseller, eba"}},
		{"null channel", `{"currency": "cloud", "credits": "1", "channel": null}`, map[string]string{"channel": "not null"}},
		{"purchased negative", `{"currency": "cloud", "credits": "1", "purchased_this_year": "-1"}`, map[string]string{"purchased_this_year": "must not be negative"}},
		{"purchased huge", `{"currency": "cloud", "credits": "1", "purchased_this_year": "1000000000000.5"}`, map[string]string{"purchased_this_year": "at most"}},
		{"purchased as number", `{"currency": "cloud", "credits": "1", "purchased_this_year": 0}`, map[string]string{"purchased_this_year": "not a JSON number"}},
		{"purchased over-precise", `{"currency": "cloud", "credits": "1", "purchased_this_year": "0.0000001"}`, map[string]string{"purchased_this_year": "more than 6"}},
		{"unknown field", `{"currency": "cloud", "credits": "1", "unit_price": "0.01"}`, map[string]string{"unit_price": "is not a field of this request"}},
		{"field in other case", `{"Currency": "cloud", "credits": "1"}`, map[string]string{"Currency": "is not a field", "currency": "is required"}},
		{"repeated field", `{"currency": "cloud", "credits": "1", "credits": "2"}`, map[string]string{"credits": "appears more than once"}},
		{"many unknown fields", `{"currency": "cloud", "credits": "1", "a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1}`,
			map[string]string{"a": "not a field", "b": "not a field", "c": "not a field", "d": "not a field", "e": "not a field",
				"body": "has 2 more unknown fields"}},
		{"every field wrong at once", `{"currency": "usd", "credits": 5000, "channel": "direct", "purchased_this_year": "-1", "discount": "0.5"}`,
			map[string]string{"currency": "must be one of", "credits": "not a JSON number", "channel": "must be one of",
				"purchased_this_year": "must not be negative", "discount": "not a field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseRequest([]byte(tt.body))
			if err == nil {
				t.Fatalf("got %+v, want an error", req)
			}
			got := problems(t, err)
			wantProblems(t, got, tt.want)
			if len(got) != len(tt.want) {
				t.Errorf("got %d problems %v, want %d", len(got), got, len(tt.want))
			}
		})
	}
}

func TestParseRequestTooLarge(t *testing.T) {
	body := `{"currency": "cloud", "credits": "1", "x": "` + strings.Repeat("y", RequestBytesMax) + `"}`
	if _, err := ParseRequest([]byte(body)); core.ErrorCode(err) != core.CodeTooLarge {
		t.Errorf("got %v, want too_large", err)
	}
}

func TestRequestValidate(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want map[string]string
	}{
		{"zero request", Request{}, map[string]string{"currency": "is required", "credits": "is required"}},
		{"both quantities", Request{Currency: core.Cloud, Credits: dec("1"), Packs: dec("1")}, map[string]string{"packs": "not both"}},
		{"fractional packs", Request{Currency: core.Cloud, Packs: dec("0.5")}, map[string]string{"packs": "whole number"}},
		{"bad everything", Request{Currency: "usd", Credits: dec("-1"), Channel: "direct", PurchasedThisYear: dec("-2")},
			map[string]string{"currency": "must be one of", "credits": "greater than zero", "channel": "must be one of", "purchased_this_year": "negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, problems(t, tt.req.Validate()), tt.want)
		})
	}
	if err := (Request{Currency: core.Cloud, Credits: dec("1")}).Validate(); err != nil {
		t.Errorf("a minimal request: got %v, want valid (empty channel means list)", err)
	}
}

func TestParseChannel(t *testing.T) {
	for _, c := range Channels() {
		if got, ok := ParseChannel(string(c)); !ok || got != c {
			t.Errorf("ParseChannel(%q): got %q, %v", c, got, ok)
		}
	}
	for _, s := range []string{"", "List", "EBA", "direct", " list"} {
		if got, ok := ParseChannel(s); ok {
			t.Errorf("ParseChannel(%q): got %q, want refused", s, got)
		}
	}
	if len(Channels()) != ChannelsMax {
		t.Errorf("ChannelsMax is %d, but there are %d channels", ChannelsMax, len(Channels()))
	}
}
