package smpp

import (
	"errors"
	"fmt"
	"testing"
)

func TestStatusError(t *testing.T) {
	tests := []struct {
		s    Status
		err  string
		name string
	}{
		{StatusXTAppn, "smpp: status 0x00000064 (ESME_RX_T_APPN)", "ESME_RX_T_APPN"},
		{StatusXPAppn, "smpp: status 0x00000065 (ESME_RX_P_APPN)", "ESME_RX_P_APPN"},
		{StatusOK, "smpp: status 0x00000000 (ESME_ROK)", "ESME_ROK"},
		{StatusThrottled, "smpp: status 0x00000058 (ESME_RTHROTTLED)", "ESME_RTHROTTLED"},
		{0x0400, "smpp: status 0x00000400 (unknown)", "unknown"},
	}
	for _, tc := range tests {
		if got := tc.s.Error(); got != tc.err {
			t.Errorf("Error() = %q, want %q", got, tc.err)
		}
		if got := tc.s.Name(); got != tc.name {
			t.Errorf("Name() = %q, want %q", got, tc.name)
		}
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Status
	}{
		{"nil is ESME_ROK", nil, StatusOK},
		{"plain error is temporary", errors.New("store: commit: timeout"), StatusXTAppn},
		{"status itself", StatusXPAppn, StatusXPAppn},
		{"wrapped status", fmt.Errorf("store: dead letter: %w", StatusXPAppn), StatusXPAppn},
		{"wrapped ESME_ROK is still an error", fmt.Errorf("odd: %w", StatusOK), StatusXTAppn},
	}
	for _, tc := range tests {
		if got := StatusOf(tc.err); got != tc.want {
			t.Errorf("%s: StatusOf = %s, want %s", tc.name, got.Name(), tc.want.Name())
		}
	}
}

func TestStatusPermanent(t *testing.T) {
	for s, want := range map[Status]bool{0x0B: true, 0x01: true, StatusThrottled: false, StatusMsgQFul: false, StatusSysErr: false, 0x45: false} {
		if got := s.Permanent(); got != want {
			t.Errorf("%s.Permanent() = %v, want %v", s.Name(), got, want)
		}
	}
}
