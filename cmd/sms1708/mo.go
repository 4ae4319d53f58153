package main

import (
	"errors"
	"time"

	"github.com/sp4n-lapor/sms1708/router"
	"github.com/sp4n-lapor/sms1708/smpp"
	"github.com/sp4n-lapor/sms1708/smpp/text"
	"github.com/sp4n-lapor/sms1708/store"
)

// moHandler adapts the SMPP layer's events to the ingest: it copies what the
// store keeps out of the PDU, decodes the text, and maps the ingest's
// outcome to the command_status of the deliver_sm_resp.
type moHandler struct {
	ingest      *store.Ingest
	alphabet    text.Alphabet  // the operator's meaning of data_coding 0
	loc         *time.Location // the SMSC's time zone, for receipt dates
	receiptBase smpp.IDBase    // how the SMSC writes ids in receipts
}

// newMOHandler returns the handler for one operator's binds.
func newMOHandler(in *store.Ingest, oc OperatorConfig) *moHandler {
	loc, err := oc.location()
	if err != nil {
		loc = time.UTC // not reached: Validate refused the zone
	}
	return &moHandler{ingest: in, alphabet: oc.alphabet(), loc: loc, receiptBase: oc.ReceiptIDBase}
}

// HandleInbound implements smpp.Handler.
func (h *moHandler) HandleInbound(in smpp.Inbound, done func(error)) {
	rec := store.Inbound{
		Operator:   in.Operator,
		Bind:       in.Bind,
		Raw:        in.Raw,
		ReceivedAt: in.ReceivedAt,
		Done:       func(err error) { done(ackStatus(err)) },
	}
	if in.DecodeErr != nil || in.PDU == nil {
		rec.DeadReason = "undecodable PDU"
		if in.DecodeErr != nil {
			rec.DeadReason = in.DecodeErr.Error()
		}
		h.ingest.Submit(rec)
		return
	}
	p := in.PDU
	rec.Command = p.CommandID
	rec.Seq = p.Seq
	rec.SourceAddr, rec.SourceTON, rec.SourceNPI = p.SourceAddr, p.SourceTON, p.SourceNPI
	rec.DestAddr = p.DestAddr
	rec.ESMClass, rec.DataCoding = p.ESMClass, p.DataCoding
	// esm_class bits 2–5 give the message type: anything but a plain MO is
	// a receipt or notification, stored and acked, never a complaint.
	rec.Receipt = p.ESMClass&0x3C != 0
	data := p.Payload()
	var concat text.Concat
	var isPart bool
	if p.ESMClass&0x40 != 0 {
		udh, ud, err := text.SplitUDH(data)
		if err == nil {
			concat, isPart, err = text.ParseConcat(udh)
		}
		if err != nil {
			rec.DeadReason = "user data header: " + err.Error()
			h.ingest.Submit(rec)
			return
		}
		data = ud
	}
	// SAR TLVs (SMPP 3.4 §5.3.2.22–24) say the same as the UDH's
	// concatenation element, for SMSCs that strip the UDH; the UDH wins
	// when both are there.
	if ref, okRef := p.TLV(smpp.TagSarMsgRefNum); !isPart && okRef {
		total, _ := p.TLV(smpp.TagSarTotalSegments)
		seq, _ := p.TLV(smpp.TagSarSegmentSeqnum)
		c, err := text.ParseSAR(ref, total, seq)
		if err != nil {
			rec.DeadReason = err.Error()
			h.ingest.Submit(rec)
			return
		}
		concat, isPart = c, true
	}
	// A receipt is never a part of a citizen's text; a "part" 1 of 1 is a
	// whole message.
	if isPart && !rec.Receipt && concat.Total > 1 {
		rec.Part = &store.Part{Ref: concat.Ref, RefBits: concat.RefBits, Total: concat.Total, Seq: concat.Seq, UserData: data}
	}
	dec := text.DecodeShortMessage(p.DataCoding, h.alphabet, data)
	rec.Text, rec.Alphabet, rec.InvalidChars = dec.Text, dec.Alphabet.String(), dec.Invalid
	if rec.Receipt {
		// A receipt without a usable message id is still stored and
		// acked: it is answered ESME_ROK and kept, like one for a message
		// we never sent.
		if r, err := smpp.ParseReceipt(p.ESMClass, p.TLVs, dec.Text, h.loc); err == nil {
			rec.DLR = &store.DLR{
				MessageID: smpp.NormalizeMessageID(r.MessageID, h.receiptBase),
				State:     r.State,
				Final:     r.Final,
				Err:       r.Err,
				DoneAt:    r.DoneDate,
			}
		}
	}
	// No reply ever goes to an alphanumeric sender or a short code: the
	// message is kept, but with no number to answer.
	if m, ok := router.NormalizeMSISDN(p.SourceAddr, p.SourceTON); ok {
		rec.MSISDN = string(m)
	}
	h.ingest.Submit(rec)
}

// ackStatus maps the ingest's outcome to the deliver_sm_resp status: OK only
// after the commit; a dead letter is a permanent error (the SMSC must not
// redeliver it forever); anything else is temporary and the SMSC retries.
func ackStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrDeadLetter):
		return smpp.StatusXPAppn
	default:
		return smpp.StatusXTAppn
	}
}
