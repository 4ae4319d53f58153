// Package text reads and writes the user data of SMS carried over SMPP 3.4:
// character sets, data_coding, user data headers and segmentation.
//
// It implements the parts of these specifications that sms1708 needs:
//
//   - 3GPP TS 23.038 (GSM 03.38) §4 data coding scheme and §6.2 the GSM 7-bit
//     default alphabet with its extension table, unpacked (one septet per
//     octet, as SMPP carries it);
//   - 3GPP TS 23.040 §9.2.3.24 user data header, information elements 0x00
//     and 0x08 (concatenated short messages, 8- and 16-bit reference);
//   - SMPP 3.4 §5.2.19 data_coding values 0x00–0x0F and §5.3.2.22–24 the
//     sar_msg_ref_num, sar_total_segments and sar_segment_seqnum TLVs.
//
// The package is pure: no I/O, no logging, no mutable globals. Decoding never
// fails and never panics; bytes that cannot be decoded become U+FFFD and are
// counted, so that a caller can keep the raw bytes, store valid text and
// report the damage. Long messages must be joined as raw bytes before they are
// decoded: a GSM escape pair or a UTF-16 surrogate pair may straddle two parts.
package text
