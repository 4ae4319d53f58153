package router

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestNormalizeMSISDN(t *testing.T) {
	tests := []struct {
		name   string
		addr   string
		ton    uint8
		want   MSISDN
		wantOK bool
	}{
		{"international as delivered", "6281234567890", TONInternational, "6281234567890", true},
		{"plus sign", "+6281234567890", TONUnknown, "6281234567890", true},
		{"double zero prefix", "006281234567890", TONUnknown, "6281234567890", true},
		{"national with leading zero", "081234567890", TONNational, "6281234567890", true},
		{"national by prefix with unknown TON", "081234567890", TONUnknown, "6281234567890", true},
		{"national without zero", "81234567890", TONNational, "6281234567890", true},
		{"foreign number kept", "60123456789", TONInternational, "60123456789", true},
		{"separators dropped", "+62 812-3456-7890", TONUnknown, "6281234567890", true},
		{"alphanumeric TON refused", "TELKOMSEL", TONAlphanumeric, "", false},
		{"letters refused whatever the TON", "INFO123", TONUnknown, "", false},
		{"short code refused", "1708", TONUnknown, "", false},
		{"empty refused", "", TONUnknown, "", false},
		{"too long refused", "62812345678901234", TONInternational, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NormalizeMSISDN(tt.addr, tt.ton)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("NormalizeMSISDN(%q, %d) = %q, %v; want %q, %v", tt.addr, tt.ton, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestMSISDNNeverLoggedWhole(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	m := MSISDN("6281234567890")
	logger.Info("mo", "from", m)
	if strings.Contains(buf.String(), "6281234567890") {
		t.Fatalf("log line holds the whole number: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "6281******890") {
		t.Fatalf("log line lacks the masked number: %s", buf.String())
	}
}
