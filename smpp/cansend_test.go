package smpp

import "testing"

// A transmitter whose receiver half is down can still carry replies; a
// receiver alone cannot.
func TestCanSendNeedsATransmitCapableBind(t *testing.T) {
	tests := []struct {
		name     string
		sessions []*session
		want     bool
	}{
		{"none", nil, false},
		{"receiver only", []*session{{bindCmd: CmdBindReceiver}}, false},
		{"transmitter without its receiver", []*session{{bindCmd: CmdBindTransmitter}}, true},
		{"transceiver", []*session{{bindCmd: CmdBindTransceiver}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &Operator{cfg: OperatorConfig{Bind: BindTransmitterReceiver}, sessions: tt.sessions}
			if got := o.CanSend(); got != tt.want {
				t.Errorf("CanSend() = %v, want %v", got, tt.want)
			}
		})
	}
	// BindsUp still counts only whole pairs: the readiness view.
	o := &Operator{cfg: OperatorConfig{Bind: BindTransmitterReceiver}, sessions: []*session{{bindCmd: CmdBindTransmitter}}}
	if o.BindsUp() != 0 {
		t.Errorf("BindsUp() = %d for a lone transmitter, want 0", o.BindsUp())
	}
}
