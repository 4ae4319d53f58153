package smpp

import (
	"errors"
	"fmt"
)

// Status is an SMPP command_status (SMPP 3.4 §5.1.3). It implements error so that an SMSC's
// refusal travels as a typed error, and so that a Handler can choose the status of its answer
// by returning one.
type Status uint32

// Command status values we send or branch on (SMPP 3.4 §5.1.3, table 5-2).
const (
	StatusOK        Status = 0x00000000 // ESME_ROK
	StatusInvMsgLen Status = 0x00000001 // ESME_RINVMSGLEN
	StatusInvCmdLen Status = 0x00000002 // ESME_RINVCMDLEN
	StatusInvCmdID  Status = 0x00000003 // ESME_RINVCMDID
	StatusInvBndSts Status = 0x00000004 // ESME_RINVBNDSTS
	StatusAlyBnd    Status = 0x00000005 // ESME_RALYBND
	StatusSysErr    Status = 0x00000008 // ESME_RSYSERR
	StatusBindFail  Status = 0x0000000D // ESME_RBINDFAIL
	StatusInvPaswd  Status = 0x0000000E // ESME_RINVPASWD
	StatusInvSysID  Status = 0x0000000F // ESME_RINVSYSID
	StatusMsgQFul   Status = 0x00000014 // ESME_RMSGQFUL
	StatusThrottled Status = 0x00000058 // ESME_RTHROTTLED
	StatusXTAppn    Status = 0x00000064 // ESME_RX_T_APPN: temporary application error, the SMSC retries
	StatusXPAppn    Status = 0x00000065 // ESME_RX_P_APPN: permanent application error, the SMSC gives up
)

var statusNames = map[Status]string{
	StatusOK:        "ESME_ROK",
	StatusInvMsgLen: "ESME_RINVMSGLEN",
	StatusInvCmdLen: "ESME_RINVCMDLEN",
	StatusInvCmdID:  "ESME_RINVCMDID",
	StatusInvBndSts: "ESME_RINVBNDSTS",
	StatusAlyBnd:    "ESME_RALYBND",
	0x00000006:      "ESME_RINVPRTFLG",
	0x00000007:      "ESME_RINVREGDLVFLG",
	StatusSysErr:    "ESME_RSYSERR",
	0x0000000A:      "ESME_RINVSRCADR",
	0x0000000B:      "ESME_RINVDSTADR",
	0x0000000C:      "ESME_RINVMSGID",
	StatusBindFail:  "ESME_RBINDFAIL",
	StatusInvPaswd:  "ESME_RINVPASWD",
	StatusInvSysID:  "ESME_RINVSYSID",
	0x00000011:      "ESME_RCANCELFAIL",
	0x00000013:      "ESME_RREPLACEFAIL",
	StatusMsgQFul:   "ESME_RMSGQFUL",
	0x00000015:      "ESME_RINVSERTYP",
	0x00000033:      "ESME_RINVNUMDESTS",
	0x00000034:      "ESME_RINVDLNAME",
	0x00000040:      "ESME_RINVDESTFLAG",
	0x00000042:      "ESME_RINVSUBREP",
	0x00000043:      "ESME_RINVESMCLASS",
	0x00000044:      "ESME_RCNTSUBDL",
	0x00000045:      "ESME_RSUBMITFAIL",
	0x00000048:      "ESME_RINVSRCTON",
	0x00000049:      "ESME_RINVSRCNPI",
	0x00000050:      "ESME_RINVDSTTON",
	0x00000051:      "ESME_RINVDSTNPI",
	0x00000053:      "ESME_RINVSYSTYP",
	0x00000054:      "ESME_RINVREPFLAG",
	0x00000055:      "ESME_RINVNUMMSGS",
	StatusThrottled: "ESME_RTHROTTLED",
	0x00000061:      "ESME_RINVSCHED",
	0x00000062:      "ESME_RINVEXPIRY",
	0x00000063:      "ESME_RINVDFTMSGID",
	StatusXTAppn:    "ESME_RX_T_APPN",
	StatusXPAppn:    "ESME_RX_P_APPN",
	0x00000066:      "ESME_RX_R_APPN",
	0x00000067:      "ESME_RQUERYFAIL",
	0x000000C0:      "ESME_RINVOPTPARSTREAM",
	0x000000C1:      "ESME_ROPTPARNOTALLWD",
	0x000000C2:      "ESME_RINVPARLEN",
	0x000000C3:      "ESME_RMISSINGOPTPARAM",
	0x000000C4:      "ESME_RINVOPTPARAMVAL",
	0x000000FE:      "ESME_RDELIVERYFAILURE",
	0x000000FF:      "ESME_RUNKNOWNERR",
	0x00000104:      "ESME_RINVDCS", // SMPP 5.0; some 3.4 SMSCs send it
}

// Name returns the SMPP name of the status ("ESME_RX_T_APPN"), or "unknown" for values the
// specification does not name (vendors use 0x400–0x4FF freely).
func (s Status) Name() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return "unknown"
}

// Error implements error: "smpp: status 0x00000064 (ESME_RX_T_APPN)".
func (s Status) Error() string {
	return fmt.Sprintf("smpp: status 0x%08X (%s)", uint32(s), s.Name())
}

// StatusOf maps a Handler's verdict to the status of our answer: nil is ESME_ROK, an error
// carrying a Status (errors.As) answers with it, and any other error is ESME_RX_T_APPN so
// that the SMSC redelivers — a false ESME_ROK would lose the message, a retry never does.
func StatusOf(err error) Status {
	if err == nil {
		return StatusOK
	}
	var s Status
	// A wrapped ESME_ROK is still an error: never let it become a false acknowledgement.
	if errors.As(err, &s) && s != StatusOK {
		return s
	}
	return StatusXTAppn
}

// Permanent reports whether resending the same submit_sm cannot succeed: the SMSC refused the
// message itself (its addresses, length, class or coding), not the moment. Package router
// reads it through its PermanentError interface.
func (s Status) Permanent() bool {
	switch s {
	case StatusInvMsgLen, 0x0A, 0x0B, 0x43, 0x48, 0x49, 0x50, 0x51, 0x61, 0x62, 0x104:
		return true
	}
	return false
}
