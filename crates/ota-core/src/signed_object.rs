//! Reads the signer's output: a JSON object, either JSONEmbedded (the firmware
//! inside as base64 `payload`, AmazonFreeRTOS-* platforms) or JSONDetached
//! (`payloadLocation` pointing at the S3 object, AWSIoTDeviceManagement-*).
//!
//! The reader is push-based: feed it chunks as they arrive from S3 and it
//! keeps only a small, bounded state. The base64 payload (up to ~21 MB of
//! text for a 16 MB image) is counted and checked as it streams past, never
//! stored, so memory does not grow with firmware size. String escapes follow
//! RFC 8259 section 7, `\uXXXX` and UTF-16 surrogate pairs included (an S3
//! key such as `firmware/über.bin` may reach us escaped); a property test
//! holds the decoding equal to serde_json's.
//!
//! Why not a JSON crate: serde_json (and struson, whose string readers would
//! keep the payload out of memory) pull from a blocking `std::io::Read`,
//! while make-stream gets the object as async chunks from the SDK, and the
//! memory-bound and fuzz tests feed it chunk by chunk; bridging the two would
//! take a blocking thread per read. The push-based crates we found (actson)
//! hand a string value over only whole, which would hold the ~21 MB payload.
//! So this file stays a small hand-written tokenizer (the reason it is over
//! the usual file size), checked by the fuzz tests in tests/fuzz_parsers.rs
//! and the memory bound in tests/signed_object_memory.rs.

use crate::error::OtaError;

/// What make-stream needs from the signer's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedObject {
    pub raw_payload_size: u64,
    /// Base64, as the job document carries it.
    pub signature: String,
    /// The signer's name, e.g. `SHA256withECDSA`.
    pub signature_algorithm: String,
    pub format: SignedFormat,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedFormat {
    /// The firmware was inside; its decoded size.
    Embedded { payload_size: u64 },
    /// The firmware stays where it was: `payloadLocation.s3`.
    Detached {
        bucket: Option<String>,
        key: Option<String>,
        version: Option<String>,
    },
}

/// The longest string value kept (signature, algorithm, location parts).
const MAX_CAPTURE: usize = 4096;
/// The longest object key compared against the fields we want.
const MAX_KEY: usize = 64;
/// How deep the JSON may nest.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    RawPayloadSize,
    Signature,
    SignatureAlgorithm,
    Payload,
    LocBucket,
    LocKey,
    LocVersion,
    PayloadLocation,
}

#[derive(Debug)]
enum StrKind {
    Key,
    Capture(Field),
    Payload,
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    None,
    Backslash,
    /// Inside `\uXXXX`: how many hex digits so far, and their value.
    Unicode {
        digits: u8,
        value: u16,
    },
}

#[derive(Debug)]
enum Mode {
    Value,
    ArrValueOrEnd,
    ObjKeyOrEnd,
    ObjKey,
    Colon,
    AfterValue,
    Str { kind: StrKind, esc: Esc },
    Num { capture: bool },
    Lit { expected: &'static [u8], pos: usize },
    Done,
}

#[derive(Debug)]
enum Container {
    Obj { key: Option<String> },
    Arr,
}

/// The streaming reader. `feed` chunks, then `finish`.
#[derive(Debug)]
pub struct SignedObjectReader {
    mode: Mode,
    stack: Vec<Container>,
    offset: u64,
    buf: Vec<u8>,
    key_overflow: bool,
    raw_payload_size: Option<u64>,
    signature: Option<String>,
    signature_algorithm: Option<String>,
    payload_chars: u64,
    payload_pad: u64,
    payload_seen: bool,
    location_seen: bool,
    loc: [Option<String>; 3],
    /// The high half of a UTF-16 surrogate pair (`\uD83D`), waiting for its
    /// low half (`\uDE00`), which must be the very next escape.
    high_surrogate: Option<u16>,
}

impl Default for SignedObjectReader {
    fn default() -> Self {
        Self::new()
    }
}

fn bad(offset: u64, msg: impl std::fmt::Display) -> OtaError {
    OtaError::SignedObjectInvalid(format!("at byte {offset}: {msg}"))
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

impl SignedObjectReader {
    pub fn new() -> Self {
        Self {
            mode: Mode::Value,
            stack: Vec::new(),
            offset: 0,
            buf: Vec::new(),
            key_overflow: false,
            raw_payload_size: None,
            signature: None,
            signature_algorithm: None,
            payload_chars: 0,
            payload_pad: 0,
            payload_seen: false,
            location_seen: false,
            loc: [None, None, None],
            high_surrogate: None,
        }
    }

    /// The field a value at the current position would be, if we want it.
    fn current_field(&self) -> Option<Field> {
        let mut path: Vec<&str> = Vec::with_capacity(self.stack.len());
        for c in &self.stack {
            match c {
                Container::Obj { key: Some(k) } => path.push(k),
                _ => return None,
            }
        }
        match path.as_slice() {
            ["rawPayloadSize"] => Some(Field::RawPayloadSize),
            ["signature"] => Some(Field::Signature),
            ["signatureAlgorithm"] => Some(Field::SignatureAlgorithm),
            ["payload"] => Some(Field::Payload),
            ["payloadLocation"] => Some(Field::PayloadLocation),
            ["payloadLocation", "s3", "bucketName"] => Some(Field::LocBucket),
            ["payloadLocation", "s3", "key"] => Some(Field::LocKey),
            ["payloadLocation", "s3", "version"] => Some(Field::LocVersion),
            _ => None,
        }
    }

    fn end_value(&mut self) {
        self.mode = if self.stack.is_empty() {
            Mode::Done
        } else {
            Mode::AfterValue
        };
    }

    fn finish_string(&mut self, kind: StrKind) -> Result<(), OtaError> {
        let text = String::from_utf8(std::mem::take(&mut self.buf))
            .map_err(|_| bad(self.offset, "a string is not UTF-8"))?;
        match kind {
            StrKind::Key => {
                if let Some(Container::Obj { key }) = self.stack.last_mut() {
                    *key = if self.key_overflow {
                        Some(String::new())
                    } else {
                        Some(text)
                    };
                }
                self.key_overflow = false;
                self.mode = Mode::Colon;
                return Ok(());
            }
            StrKind::Capture(f) => {
                let slot = match f {
                    Field::Signature => &mut self.signature,
                    Field::SignatureAlgorithm => &mut self.signature_algorithm,
                    Field::LocBucket => &mut self.loc[0],
                    Field::LocKey => &mut self.loc[1],
                    Field::LocVersion => &mut self.loc[2],
                    _ => return Err(bad(self.offset, "unexpected string")),
                };
                if slot.is_some() {
                    return Err(bad(self.offset, "a field appears twice"));
                }
                *slot = Some(text);
            }
            StrKind::Payload => {
                if (self.payload_chars + self.payload_pad) % 4 != 0 {
                    return Err(bad(
                        self.offset,
                        "payload is not whole base64 (length not a multiple of 4)",
                    ));
                }
            }
            StrKind::Skip => {}
        }
        self.end_value();
        Ok(())
    }

    /// One byte inside a string: escapes decoded (`\uXXXX` and surrogate
    /// pairs included, as JSON's RFC 8259 section 7 defines them), the
    /// payload counted as base64, kept strings (keys, signature, algorithm,
    /// the payload location) collected as UTF-8.
    fn string_byte(&mut self, b: u8) -> Result<(), OtaError> {
        let Mode::Str { kind, esc } = std::mem::replace(&mut self.mode, Mode::Done) else {
            return Err(bad(self.offset, "internal: a string byte outside a string"));
        };
        let esc = match esc {
            Esc::Backslash => self.escape(&kind, b)?,
            Esc::Unicode { digits, value } => self.unicode_digit(&kind, b, digits, value)?,
            Esc::None => {
                if self.high_surrogate.is_some() && b != b'\\' {
                    return Err(bad(
                        self.offset,
                        "a \\u escape has half a UTF-16 surrogate pair",
                    ));
                }
                match b {
                    b'"' => return self.finish_string(kind),
                    b'\\' => Esc::Backslash,
                    0..=0x1f => return Err(bad(self.offset, "control character in a string")),
                    _ => {
                        self.plain_byte(&kind, b)?;
                        Esc::None
                    }
                }
            }
        };
        self.mode = Mode::Str { kind, esc };
        Ok(())
    }

    /// The byte after a backslash.
    fn escape(&mut self, kind: &StrKind, b: u8) -> Result<Esc, OtaError> {
        if self.high_surrogate.is_some() && b != b'u' {
            return Err(bad(
                self.offset,
                "a \\u escape has half a UTF-16 surrogate pair",
            ));
        }
        let decoded = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                return Ok(Esc::Unicode {
                    digits: 0,
                    value: 0,
                })
            }
            _ => return Err(bad(self.offset, "bad escape in a string")),
        };
        if let StrKind::Payload = kind {
            if is_b64(decoded) && self.payload_pad == 0 {
                self.payload_chars += 1;
            } else if !decoded.is_ascii_whitespace() {
                return Err(bad(self.offset, "payload is not base64"));
            }
        } else {
            self.keep_byte(kind, decoded)?;
        }
        Ok(Esc::None)
    }

    /// One hex digit of `\uXXXX`; the fourth completes a UTF-16 code unit.
    fn unicode_digit(
        &mut self,
        kind: &StrKind,
        b: u8,
        digits: u8,
        value: u16,
    ) -> Result<Esc, OtaError> {
        let Some(d) = (b as char).to_digit(16) else {
            return Err(bad(self.offset, "bad \\u escape"));
        };
        if let StrKind::Payload = kind {
            return Err(bad(self.offset, "payload is not base64"));
        }
        let value = (value << 4) | d as u16;
        if digits < 3 {
            return Ok(Esc::Unicode {
                digits: digits + 1,
                value,
            });
        }
        self.code_unit(kind, value)?;
        Ok(Esc::None)
    }

    /// A UTF-16 code unit from a `\u` escape: a character, or one half of a
    /// surrogate pair (the pair makes one character above U+FFFF).
    fn code_unit(&mut self, kind: &StrKind, unit: u16) -> Result<(), OtaError> {
        let c = match (self.high_surrogate.take(), unit) {
            (None, 0xD800..=0xDBFF) => {
                self.high_surrogate = Some(unit);
                return Ok(());
            }
            (Some(high), 0xDC00..=0xDFFF) => {
                let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                char::from_u32(c)
            }
            (None, 0xDC00..=0xDFFF) | (Some(_), _) => None,
            (None, u) => char::from_u32(u32::from(u)),
        };
        let c =
            c.ok_or_else(|| bad(self.offset, "a \\u escape has half a UTF-16 surrogate pair"))?;
        let mut utf8 = [0u8; 4];
        for byte in c.encode_utf8(&mut utf8).bytes() {
            self.keep_byte(kind, byte)?;
        }
        Ok(())
    }

    /// An unescaped byte of a string.
    fn plain_byte(&mut self, kind: &StrKind, b: u8) -> Result<(), OtaError> {
        if let StrKind::Payload = kind {
            if b == b'=' {
                self.payload_pad += 1;
                if self.payload_pad > 2 {
                    return Err(bad(self.offset, "payload has too much base64 padding"));
                }
            } else if is_b64(b) && self.payload_pad == 0 {
                self.payload_chars += 1;
            } else {
                return Err(bad(self.offset, "payload is not base64"));
            }
            return Ok(());
        }
        self.keep_byte(kind, b)
    }

    /// A byte of a key (the first MAX_KEY are compared) or of a kept value
    /// (at most MAX_CAPTURE).
    fn keep_byte(&mut self, kind: &StrKind, b: u8) -> Result<(), OtaError> {
        match kind {
            StrKind::Key => {
                if self.buf.len() < MAX_KEY {
                    self.buf.push(b);
                } else {
                    self.key_overflow = true;
                }
            }
            StrKind::Capture(_) => {
                if self.buf.len() >= MAX_CAPTURE {
                    return Err(bad(
                        self.offset,
                        format!("a value is longer than {MAX_CAPTURE} bytes"),
                    ));
                }
                self.buf.push(b);
            }
            StrKind::Payload | StrKind::Skip => {}
        }
        Ok(())
    }

    /// Feeds the next chunk of the object.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), OtaError> {
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            let mut advance = true;
            match &mut self.mode {
                Mode::Str { .. } => self.string_byte(b)?,
                Mode::Num { capture } => {
                    if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E') {
                        if *capture {
                            if self.buf.len() > 24 {
                                return Err(bad(
                                    self.offset,
                                    "rawPayloadSize is too long a number",
                                ));
                            }
                            self.buf.push(b);
                        }
                    } else {
                        if *capture {
                            let s = String::from_utf8_lossy(&self.buf).to_string();
                            self.buf.clear();
                            let n: u64 = s.parse().map_err(|_| {
                                bad(
                                    self.offset,
                                    format!("rawPayloadSize '{s}' is not a whole number"),
                                )
                            })?;
                            if self.raw_payload_size.replace(n).is_some() {
                                return Err(bad(self.offset, "rawPayloadSize appears twice"));
                            }
                        }
                        self.end_value();
                        advance = false;
                    }
                }
                Mode::Lit { expected, pos } => {
                    if b != expected[*pos] {
                        return Err(bad(self.offset, "unexpected character"));
                    }
                    *pos += 1;
                    if *pos == expected.len() {
                        self.end_value();
                    }
                }
                _ if b.is_ascii_whitespace() => {}
                Mode::Value | Mode::ArrValueOrEnd => {
                    if matches!(self.mode, Mode::ArrValueOrEnd) && b == b']' {
                        self.stack.pop();
                        self.end_value();
                    } else if self.stack.is_empty() && b != b'{' {
                        return Err(bad(self.offset, "the signed object is not a JSON object"));
                    } else {
                        let field = self.current_field();
                        match b {
                            b'{' | b'[' => {
                                if self.stack.len() >= MAX_DEPTH {
                                    return Err(bad(self.offset, "nested too deeply"));
                                }
                                if field == Some(Field::PayloadLocation) && b == b'{' {
                                    self.location_seen = true;
                                }
                                if b == b'{' {
                                    self.stack.push(Container::Obj { key: None });
                                    self.mode = Mode::ObjKeyOrEnd;
                                } else {
                                    self.stack.push(Container::Arr);
                                    self.mode = Mode::ArrValueOrEnd;
                                }
                            }
                            b'"' => {
                                let kind = match field {
                                    Some(Field::Payload) => {
                                        if self.payload_seen {
                                            return Err(bad(self.offset, "payload appears twice"));
                                        }
                                        self.payload_seen = true;
                                        StrKind::Payload
                                    }
                                    Some(Field::RawPayloadSize) => {
                                        return Err(bad(
                                            self.offset,
                                            "rawPayloadSize is not a number",
                                        ))
                                    }
                                    Some(Field::PayloadLocation) | None => StrKind::Skip,
                                    Some(f) => StrKind::Capture(f),
                                };
                                self.mode = Mode::Str {
                                    kind,
                                    esc: Esc::None,
                                };
                            }
                            b'-' | b'0'..=b'9' => {
                                let capture = field == Some(Field::RawPayloadSize);
                                if capture {
                                    self.buf.push(b);
                                }
                                self.mode = Mode::Num { capture };
                            }
                            b't' => {
                                self.mode = Mode::Lit {
                                    expected: b"true",
                                    pos: 1,
                                }
                            }
                            b'f' => {
                                self.mode = Mode::Lit {
                                    expected: b"false",
                                    pos: 1,
                                }
                            }
                            b'n' => {
                                self.mode = Mode::Lit {
                                    expected: b"null",
                                    pos: 1,
                                }
                            }
                            _ => {
                                return Err(bad(self.offset, format!("unexpected '{}'", b as char)))
                            }
                        }
                    }
                }
                Mode::ObjKeyOrEnd | Mode::ObjKey => {
                    if b == b'}' && matches!(self.mode, Mode::ObjKeyOrEnd) {
                        self.stack.pop();
                        self.end_value();
                    } else if b == b'"' {
                        self.buf.clear();
                        self.mode = Mode::Str {
                            kind: StrKind::Key,
                            esc: Esc::None,
                        };
                    } else {
                        return Err(bad(self.offset, "expected a key"));
                    }
                }
                Mode::Colon => {
                    if b != b':' {
                        return Err(bad(self.offset, "expected ':'"));
                    }
                    self.mode = Mode::Value;
                }
                Mode::AfterValue => match (self.stack.last(), b) {
                    (Some(Container::Obj { .. }), b',') => self.mode = Mode::ObjKey,
                    (Some(Container::Arr), b',') => self.mode = Mode::Value,
                    (Some(Container::Obj { .. }), b'}') | (Some(Container::Arr), b']') => {
                        self.stack.pop();
                        self.end_value();
                    }
                    _ => return Err(bad(self.offset, format!("unexpected '{}'", b as char))),
                },
                Mode::Done => return Err(bad(self.offset, "data after the end of the object")),
            }
            if advance {
                i += 1;
                self.offset += 1;
            }
        }
        Ok(())
    }

    /// Ends the input and returns what was read.
    pub fn finish(mut self) -> Result<SignedObject, OtaError> {
        // A top-level number cannot be the object, but a trailing number
        // inside is closed by the bracket, so only Done is complete.
        if !matches!(self.mode, Mode::Done) {
            if self.offset == 0 {
                return Err(OtaError::SignedObjectInvalid(
                    "the signed object is empty".into(),
                ));
            }
            return Err(bad(
                self.offset,
                "the signed object ends before its JSON does",
            ));
        }
        let missing =
            |f: &str| OtaError::SignedObjectInvalid(format!("the signed object has no {f}"));
        let signature = self.signature.take().ok_or_else(|| missing("signature"))?;
        let signature_algorithm = self
            .signature_algorithm
            .take()
            .ok_or_else(|| missing("signatureAlgorithm"))?;
        if signature.is_empty() {
            return Err(missing("signature"));
        }
        let format = if self.payload_seen {
            if self.location_seen {
                return Err(OtaError::SignedObjectInvalid(
                    "the signed object has both payload and payloadLocation".into(),
                ));
            }
            let decoded = (self.payload_chars + self.payload_pad) / 4 * 3 - self.payload_pad;
            SignedFormat::Embedded {
                payload_size: decoded,
            }
        } else if self.location_seen {
            let [bucket, key, version] = std::mem::take(&mut self.loc);
            SignedFormat::Detached {
                bucket,
                key,
                version,
            }
        } else {
            return Err(missing("payload or payloadLocation"));
        };
        let raw_payload_size = match (&format, self.raw_payload_size) {
            (SignedFormat::Embedded { payload_size }, Some(n)) if n != *payload_size => {
                return Err(OtaError::SignedObjectInvalid(format!(
                    "rawPayloadSize {n} does not match the embedded payload's {payload_size} bytes"
                )))
            }
            (_, Some(n)) => n,
            (SignedFormat::Embedded { payload_size }, None) => *payload_size,
            (SignedFormat::Detached { .. }, None) => return Err(missing("rawPayloadSize")),
        };
        Ok(SignedObject {
            raw_payload_size,
            signature,
            signature_algorithm,
            format,
        })
    }

    /// Reads a whole object from a blocking reader (tests and local tools).
    pub fn read_from(mut r: impl std::io::Read) -> Result<SignedObject, OtaError> {
        let mut reader = SignedObjectReader::new();
        let mut buf = [0u8; 64 * 1024];
        loop {
            let n = r
                .read(&mut buf)
                .map_err(|e| OtaError::SignedObjectInvalid(format!("read failed: {e}")))?;
            if n == 0 {
                break;
            }
            reader.feed(&buf[..n])?;
        }
        reader.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use proptest::prelude::*;

    fn read(bytes: &[u8]) -> Result<SignedObject, OtaError> {
        SignedObjectReader::read_from(bytes)
    }

    #[test]
    fn detached_as_the_signer_writes_it() {
        let doc = br#"{"rawPayloadSize":366816,"signature":"MEUCIQDx","signatureAlgorithm":"SHA256withECDSA","payloadLocation":{"s3":{"bucketName":"fw","key":"firmware/app.bin","version":"v1"}}}"#;
        let s = read(doc).unwrap();
        assert_eq!(s.raw_payload_size, 366816);
        assert_eq!(s.signature, "MEUCIQDx");
        assert_eq!(s.signature_algorithm, "SHA256withECDSA");
        assert_eq!(
            s.format,
            SignedFormat::Detached {
                bucket: Some("fw".into()),
                key: Some("firmware/app.bin".into()),
                version: Some("v1".into())
            }
        );
    }

    /// A detached signed object whose location key is `key_json` (a JSON
    /// string literal, quotes included).
    fn detached_with_key(key_json: &str) -> Vec<u8> {
        format!(
            r#"{{"rawPayloadSize":1,"signature":"MEUCIQDx","signatureAlgorithm":"SHA256withECDSA","payloadLocation":{{"s3":{{"bucketName":"fw","key":{key_json},"version":"v1"}}}}}}"#
        )
        .into_bytes()
    }

    fn location_key(doc: &[u8]) -> Option<String> {
        match read(doc).unwrap().format {
            SignedFormat::Detached { key, .. } => key,
            other => panic!("{other:?}"),
        }
    }

    /// Every character as `\uXXXX` (two escapes above U+FFFF), as a signer
    /// may write non-ASCII keys.
    fn escape_all(text: &str) -> String {
        let mut out = String::from("\"");
        for unit in text.encode_utf16() {
            out.push_str(&format!("\\u{unit:04x}"));
        }
        out.push('"');
        out
    }

    #[test]
    fn non_ascii_keys_survive_raw_and_escaped() {
        // S3 keys are UTF-8: accents, spaces, '+', emoji in build artifacts.
        for key in [
            "firmware/über.bin",
            "firmware/app v1+rc.bin",
            "firmware/日本/🚀.bin",
        ] {
            let raw = serde_json::to_string(key).unwrap();
            assert_eq!(location_key(&detached_with_key(&raw)).as_deref(), Some(key));
            let escaped = escape_all(key);
            assert_eq!(
                location_key(&detached_with_key(&escaped)).as_deref(),
                Some(key),
                "{escaped}"
            );
        }
        // Upper-case hex digits too.
        assert_eq!(
            location_key(&detached_with_key(r#""firmware/\u00DCber.bin""#)).as_deref(),
            Some("firmware/Über.bin")
        );
    }

    #[test]
    fn half_a_surrogate_pair_is_refused() {
        for bad_key in [
            r#""\ud83d""#,
            r#""\ud83dx""#,
            r#""\ude00""#,
            r#""\ud83d\n""#,
            r#""\ud83d\ud83d""#,
        ] {
            let e = read(&detached_with_key(bad_key)).unwrap_err();
            assert!(e.to_string().contains("surrogate"), "{bad_key}: {e}");
        }
    }

    proptest! {
        /// Any string, written raw (serde_json's escaping) or with every
        /// character escaped, reads back as serde_json reads it.
        #[test]
        fn strings_decode_as_serde_json_decodes_them(key in "\\PC{0,40}") {
            for literal in [serde_json::to_string(&key).unwrap(), escape_all(&key)] {
                let ours = location_key(&detached_with_key(&literal));
                let theirs: String = serde_json::from_str(&literal).unwrap();
                prop_assert_eq!(ours, Some(theirs));
            }
        }
    }

    #[test]
    fn embedded_with_escaped_slashes_and_whitespace() {
        let payload = base64::engine::general_purpose::STANDARD.encode(b"firmware bytes!?");
        let escaped = payload.replace('/', "\\/");
        let doc = format!(
            "{{ \"payload\" : \"{escaped}\",\n \"extra\": [1, {{\"a\": null}}, true, -2.5e3],\n \"signature\": \"c2ln\", \"signatureAlgorithm\": \"SHA1withRSA\", \"rawPayloadSize\": 16 }}"
        );
        let s = read(doc.as_bytes()).unwrap();
        assert_eq!(s.raw_payload_size, 16);
        assert_eq!(s.format, SignedFormat::Embedded { payload_size: 16 });
    }

    #[test]
    fn large_embedded_object_streams_in_small_chunks() {
        // 8 MB of firmware, 10.7 MB of base64, fed 4 KB at a time; the reader
        // keeps nothing of it.
        let firmware: Vec<u8> = (0..8 * 1024 * 1024u32)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&firmware);
        let doc = format!(
            r#"{{"rawPayloadSize":{},"signature":"MEUCIQ==","signatureAlgorithm":"SHA256withECDSA","payload":"{b64}"}}"#,
            firmware.len()
        );
        let mut r = SignedObjectReader::new();
        for chunk in doc.as_bytes().chunks(4096) {
            r.feed(chunk).unwrap();
            assert!(
                r.buf.capacity() <= MAX_CAPTURE * 2,
                "buffer grew to {}",
                r.buf.capacity()
            );
        }
        let s = r.finish().unwrap();
        assert_eq!(s.raw_payload_size, firmware.len() as u64);
    }

    #[test]
    fn malformed_inputs_are_clear_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"[1,2]", "not a JSON object"),
            (b"\"x\"", "not a JSON object"),
            (b"{\"signature\":\"a\"", "ends before"),
            (b"{\"signature\":\"a\",\"signatureAlgorithm\":\"b\"}", "no payload or payloadLocation"),
            (b"{\"signatureAlgorithm\":\"b\",\"payload\":\"AAAA\"}", "no signature"),
            (b"{\"signature\":\"a\",\"signatureAlgorithm\":\"b\",\"payload\":\"AAA\"}", "multiple of 4"),
            (b"{\"signature\":\"a\",\"signatureAlgorithm\":\"b\",\"payload\":\"AA!A\"}", "not base64"),
            (b"{\"signature\":\"a\",\"signatureAlgorithm\":\"b\",\"payload\":\"AAAA\",\"rawPayloadSize\":4}", "does not match"),
            (b"{\"rawPayloadSize\":\"12\"}", "not a number"),
            (b"{\"rawPayloadSize\":1.5,\"signature\":\"a\"}", "not a whole number"),
            (b"{\"signature\":\"a\",\"signature\":\"b\"}", "twice"),
            (b"{\"a\":1}}", "after the end"),
            (b"{\"a\" 1}", "expected ':'"),
            (b"{a:1}", "expected a key"),
            (b"{\"a\":tru}", "unexpected"),
            (b"{\"a\":\"\\q\"}", "bad escape"),
            (b"{\"signature\":\"a\",\"signatureAlgorithm\":\"b\",\"payloadLocation\":{}}", "no rawPayloadSize"),
        ];
        for (input, want) in cases {
            let e = read(input).unwrap_err();
            assert_eq!(e.error_type(), "SignedObjectInvalid");
            assert!(
                e.to_string().contains(want),
                "{:?}: {e}",
                String::from_utf8_lossy(input)
            );
        }
        let deep = "[".repeat(100);
        assert!(read(format!("{{\"a\":{deep}").as_bytes())
            .unwrap_err()
            .to_string()
            .contains("deeply"));
        let long = format!("{{\"signature\":\"{}\"}}", "A".repeat(MAX_CAPTURE + 1));
        assert!(read(long.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("longer than"));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512), split in 0usize..512) {
            let mut r = SignedObjectReader::new();
            let split = split.min(bytes.len());
            let res = r.feed(&bytes[..split]).and_then(|_| r.feed(&bytes[split..]));
            if res.is_ok() { let _ = r.finish(); }
        }

        #[test]
        fn chunking_does_not_change_the_result(size in 0usize..3000, chunk in 1usize..97) {
            let fw = vec![7u8; size];
            let b64 = base64::engine::general_purpose::STANDARD.encode(&fw);
            let doc = format!(r#"{{"signature":"MEU=","signatureAlgorithm":"SHA256withECDSA","payload":"{b64}"}}"#);
            let mut r = SignedObjectReader::new();
            for c in doc.as_bytes().chunks(chunk) { r.feed(c).unwrap(); }
            prop_assert_eq!(r.finish().unwrap().raw_payload_size, size as u64);
        }
    }
}
