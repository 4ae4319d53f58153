package smpp

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hotCommands are the commands Decode reads without go-smpp's codec (decodeHot).
var hotCommands = []uint32{
	CmdSubmitSM, CmdDeliverSM, CmdDataSM,
	CmdSubmitSM | RespBit, CmdDeliverSM | RespBit, CmdDataSM | RespBit,
}

// checkDecodersAgree fails unless the direct decoder and go-smpp's codec give the same PDU
// (strictly: nil and empty differ) or the same error for frame.
func checkDecodersAgree(t *testing.T, frame []byte) {
	t.Helper()
	direct, derr := decode(frame, true)
	codec, cerr := decode(frame, false)
	switch {
	case (derr == nil) != (cerr == nil):
		t.Fatalf("direct error %v, codec error %v\n%s", derr, cerr, hex.Dump(frame))
	case derr != nil:
		if derr.Error() != cerr.Error() {
			t.Fatalf("errors differ:\ndirect %v\ncodec  %v\n%s", derr, cerr, hex.Dump(frame))
		}
		if direct != nil || codec != nil {
			t.Fatalf("PDU returned with an error\n%s", hex.Dump(frame))
		}
	default:
		if d := cmp.Diff(codec, direct); d != "" {
			t.Fatalf("direct decode differs from go-smpp's (-codec +direct):\n%s\n%s", d, hex.Dump(frame))
		}
	}
}

// The fuzz seeds (every golden PDU, of every command), each also cut short at every length
// and with its command_length fixed up, as FuzzDecode tries them.
func TestDirectDecodeAgreesOnGolden(t *testing.T) {
	hot := 0
	for _, tc := range goldenPDUs(t) {
		cmd, _, _, _ := FrameHeader(tc.wire)
		for _, h := range hotCommands {
			if cmd == h {
				hot++
			}
		}
		checkDecodersAgree(t, tc.wire)
		for n := HeaderLen; n < len(tc.wire); n++ {
			checkDecodersAgree(t, withLength(append([]byte(nil), tc.wire[:n]...)))
		}
	}
	if hot < 4 {
		t.Fatalf("only %d golden PDUs of the hot commands: the comparison proves little", hot)
	}
}

func randString(r *rand.Rand, max int) string {
	b := make([]byte, r.IntN(max+1))
	for i := range b {
		b[i] = byte(1 + r.IntN(255)) // anything but NUL
	}
	return string(b)
}

func randBytes(r *rand.Rand, max int) []byte {
	b := make([]byte, r.IntN(max+1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func randHotPDU(r *rand.Rand) *PDU {
	p := &PDU{CommandID: hotCommands[r.IntN(len(hotCommands))], Status: Status(r.IntN(3) * 0x45), Seq: r.Uint32() & maxSeq}
	switch p.CommandID {
	case CmdSubmitSM, CmdDeliverSM, CmdDataSM:
		p.ServiceType, p.SourceAddr, p.DestAddr = randString(r, 6), randString(r, 21), randString(r, 21)
		p.SourceTON, p.SourceNPI, p.DestTON, p.DestNPI = uint8(r.Uint32()), uint8(r.Uint32()), uint8(r.Uint32()), uint8(r.Uint32())
		p.ESMClass, p.RegisteredDelivery, p.DataCoding = uint8(r.Uint32()), uint8(r.Uint32()), uint8(r.Uint32())
		if p.CommandID != CmdDataSM {
			p.ProtocolID, p.PriorityFlag = uint8(r.Uint32()), uint8(r.Uint32())
			p.ScheduleDeliveryTime, p.ValidityPeriod = randString(r, 17), randString(r, 17)
			p.ReplaceIfPresent, p.SMDefaultMsgID = uint8(r.Uint32()), uint8(r.Uint32())
			p.ShortMessage = randBytes(r, 254)
		}
	default:
		p.MessageID = randString(r, 65)
	}
	for range r.IntN(4) {
		p.TLVs = append(p.TLVs, TLV{Tag: uint16(r.Uint32()), Value: randBytes(r, 40)})
	}
	return p
}

// Random PDUs of the hot commands: marshalled as is, then damaged (cut short, a byte
// changed, trailing bytes) with command_length fixed up so that the bodies are decoded.
func TestDirectDecodeAgreesOnRandomPDUs(t *testing.T) {
	r := rand.New(rand.NewPCG(1708, 3))
	for range 4000 {
		p := randHotPDU(r)
		b, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", p, err)
		}
		checkDecodersAgree(t, b)
		if q, err := Decode(b); err == nil && len(b) > HeaderLen && !cmp.Equal(p, q, pduCmp) {
			t.Fatalf("round trip changed the PDU:\n%s", cmp.Diff(p, q, pduCmp))
		}
		if len(b) > HeaderLen {
			cut := HeaderLen + r.IntN(len(b)-HeaderLen)
			checkDecodersAgree(t, withLength(append([]byte(nil), b[:cut]...)))
			m := append([]byte(nil), b...)
			m[HeaderLen+r.IntN(len(b)-HeaderLen)] = byte(r.Uint32())
			checkDecodersAgree(t, m)
		}
		checkDecodersAgree(t, withLength(append(append([]byte(nil), b...), randBytes(r, 6)...)))
		// Random bodies under a hot command id.
		f := make([]byte, HeaderLen, HeaderLen+64)
		binary.BigEndian.PutUint32(f[4:8], hotCommands[r.IntN(len(hotCommands))])
		f = append(f, randBytes(r, 64)...)
		if r.IntN(2) == 0 {
			for i := HeaderLen; i < len(f); i++ {
				if r.IntN(4) == 0 {
					f[i] = 0 // NULs, so that C-Octet Strings end
				}
			}
		}
		checkDecodersAgree(t, withLength(f))
	}
}

// FuzzDirectDecode: on any input, the direct decoder agrees with go-smpp's codec.
func FuzzDirectDecode(f *testing.F) {
	for _, tc := range goldenPDUs(f) {
		f.Add(tc.wire)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		checkDecodersAgree(t, frame)
		if len(frame) >= 4 && len(frame) <= MaxPDULen {
			checkDecodersAgree(t, withLength(frame))
		}
	})
}
