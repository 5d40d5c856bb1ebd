//! Git pkt-line framing (gitprotocol-common): a 4-hex-digit length that counts itself, then the
//! payload; `0000` flush-pkt, `0001` delim-pkt, `0002` response-end-pkt.

use thiserror::Error;

/// Largest pkt-line length git allows (header included).
pub const MAX_PKT_LEN: usize = 65520;

/// One packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    /// `0000`: end of a message section.
    Flush,
    /// `0001`: separates sections of a v2 command.
    Delim,
    /// `0002`: end of a v2 response (stateless connections).
    ResponseEnd,
    /// A data packet's payload (including any trailing newline).
    Data(&'a [u8]),
}

/// A pkt-line stream is malformed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PktError {
    /// The input ends inside a length header or a payload.
    #[error("truncated pkt-line at byte {offset}: needs {needed} bytes, only {available} left")]
    Truncated {
        /// Where the packet starts.
        offset: usize,
        /// Bytes the packet needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// The length header is not 4 hex digits, or is invalid (`0003`, or beyond the maximum).
    #[error("invalid pkt-line length {header:?} at byte {offset}")]
    BadLength {
        /// Where the packet starts.
        offset: usize,
        /// The header bytes, lossily decoded.
        header: String,
    },
}

/// Reads packets from a byte buffer.
#[derive(Debug, Clone)]
pub struct PktReader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> PktReader<'a> {
    /// A reader over `input`.
    pub fn new(input: &'a [u8]) -> Self {
        PktReader { input, pos: 0 }
    }

    /// The byte offset of the next packet.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether all input has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// The next packet, `Ok(None)` at the end of the input.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'a>>, PktError> {
        let offset = self.pos;
        let rest = &self.input[offset..];
        if rest.is_empty() {
            return Ok(None);
        }
        if rest.len() < 4 {
            return Err(PktError::Truncated {
                offset,
                needed: 4,
                available: rest.len(),
            });
        }
        let header = &rest[..4];
        let bad = || PktError::BadLength {
            offset,
            header: String::from_utf8_lossy(header).into_owned(),
        };
        if !header.iter().all(u8::is_ascii_hexdigit) {
            return Err(bad());
        }
        let len = std::str::from_utf8(header)
            .ok()
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .ok_or_else(bad)?;
        let packet = match len {
            0 => Packet::Flush,
            1 => Packet::Delim,
            2 => Packet::ResponseEnd,
            3 => return Err(bad()),
            _ if len > MAX_PKT_LEN => return Err(bad()),
            _ => {
                if rest.len() < len {
                    return Err(PktError::Truncated {
                        offset,
                        needed: len,
                        available: rest.len(),
                    });
                }
                self.pos += len;
                return Ok(Some(Packet::Data(&rest[4..len])));
            }
        };
        self.pos += 4;
        Ok(Some(packet))
    }
}

/// Appends a data packet. Payloads longer than the maximum are the caller's bug; they panic in
/// debug builds only.
pub fn write_data(out: &mut Vec<u8>, payload: &[u8]) {
    debug_assert!(
        payload.len() + 4 <= MAX_PKT_LEN,
        "pkt-line payload too long"
    );
    out.extend_from_slice(format!("{:04x}", payload.len() + 4).as_bytes());
    out.extend_from_slice(payload);
}

/// Appends a flush-pkt (`0000`).
pub fn write_flush(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0000");
}

/// Appends a delim-pkt (`0001`).
pub fn write_delim(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0001");
}

/// Strips one trailing `\n` from a payload.
pub fn trim_newline(payload: &[u8]) -> &[u8] {
    payload.strip_suffix(b"\n").unwrap_or(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Result<Vec<Packet<'_>>, PktError> {
        let mut reader = PktReader::new(input);
        let mut packets = Vec::new();
        while let Some(p) = reader.next_packet()? {
            packets.push(p);
        }
        Ok(packets)
    }

    #[test]
    fn reads_data_and_special_packets() {
        let packets = all(b"0009peel\n00000001000200040006ab").expect("valid");
        assert_eq!(
            packets,
            [
                Packet::Data(b"peel\n"),
                Packet::Flush,
                Packet::Delim,
                Packet::ResponseEnd,
                Packet::Data(b""),
                Packet::Data(b"ab")
            ]
        );
    }

    #[test]
    fn accepts_uppercase_hex() {
        let mut payload = vec![b'x'; 0xA - 4];
        payload.splice(0..0, *b"000A");
        assert_eq!(all(&payload).expect("valid"), [Packet::Data(b"xxxxxx")]);
    }

    #[test]
    fn round_trips_written_packets() {
        let mut out = Vec::new();
        write_data(&mut out, b"command=ls-refs\n");
        write_delim(&mut out);
        write_flush(&mut out);
        assert_eq!(out, b"0014command=ls-refs\n00010000");
        assert_eq!(all(&out).expect("valid").len(), 3);
    }

    #[test]
    fn truncated_payload_is_an_error() {
        let err = all(b"0000000aabc").expect_err("truncated");
        assert_eq!(
            err,
            PktError::Truncated {
                offset: 4,
                needed: 10,
                available: 7
            }
        );
        assert!(err.to_string().contains("truncated pkt-line at byte 4"));
    }

    #[test]
    fn truncated_header_is_an_error() {
        assert_eq!(
            all(b"00").expect_err("truncated"),
            PktError::Truncated {
                offset: 0,
                needed: 4,
                available: 2
            }
        );
    }

    #[test]
    fn garbage_is_an_error() {
        let err = all(b"<!DOCTYPE html>").expect_err("garbage");
        assert!(matches!(err, PktError::BadLength { offset: 0, ref header } if header == "<!DO"));
        assert!(matches!(
            all(b"0003").expect_err("reserved"),
            PktError::BadLength { .. }
        ));
        assert!(matches!(
            all(b"fff1").expect_err("too long"),
            PktError::BadLength { .. }
        ));
        assert!(matches!(
            all(b"+123").expect_err("sign"),
            PktError::BadLength { .. }
        ));
    }

    #[test]
    fn empty_input_has_no_packets() {
        assert!(all(b"").expect("empty").is_empty());
        assert_eq!(trim_newline(b"a\n"), b"a");
        assert_eq!(trim_newline(b"a"), b"a");
    }
}
