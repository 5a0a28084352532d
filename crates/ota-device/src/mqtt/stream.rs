//! Downloading a file over the MQTT file stream (AWS IoT "MQTT-based file
//! delivery"), as the FreeRTOS OTA agent does (ota.c, ota_cbor.c, ota_mqtt.c
//! of aws/ota-for-aws-iot-embedded-sdk @477ee9a):
//!
//! - GetStream on `$aws/things/T/streams/S/get/cbor` (or `json`), blocks
//!   back on `.../data/cbor`, errors on `.../rejected/cbor`;
//! - the request names the file (`f`), the block size (`l`), the first
//!   block (`o`) and a bitmap of the blocks wanted from there (`b`: bit k of
//!   byte k/8, least significant first, is block o + k; ota.c L2635-2638),
//!   with `n` the number of blocks (FreeRTOS sends both, ota_cbor.c
//!   L290-340); in CBOR the bitmap is a byte string, in JSON a hex string;
//! - a block is checked as validateDataBlock does (ota.c L2578-2590): its
//!   `l` is the block size, or the remainder for the last block; it is
//!   written at its offset at once (the file is never held in memory);
//! - when no block comes for the request timeout, the missing blocks are
//!   asked for again (otaconfigFILE_REQUEST_WAIT_MS); after too many
//!   requests in a row without a block the download fails
//!   (otaconfigMAX_NUM_REQUEST_MOMENTUM).

use super::{MqttError, MqttLink};
use base64::Engine;
use ciborium::Value as Cbor;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Cbor,
    Json,
}

impl Encoding {
    fn suffix(self) -> &'static str {
        match self {
            Encoding::Cbor => "cbor",
            Encoding::Json => "json",
        }
    }
}

/// How the agent asks for blocks.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Bytes per block (FreeRTOS: 1 << otaconfigLOG2_FILE_BLOCK_SIZE, 4096).
    pub block_size: u32,
    /// Blocks asked for per request (FreeRTOS: otaconfigMAX_NUM_BLOCKS_REQUEST).
    pub blocks_per_request: u32,
    /// How long without a block before the missing ones are asked again
    /// (FreeRTOS: otaconfigFILE_REQUEST_WAIT_MS, 10 s).
    pub request_timeout: Duration,
    /// Requests in a row without a block before the download fails
    /// (FreeRTOS: otaconfigMAX_NUM_REQUEST_MOMENTUM, 32).
    pub max_requests_without_data: u32,
    pub encoding: Encoding,
    /// Fault injection for canaries and tests: drop the connection once,
    /// after this many blocks.
    pub drop_after_blocks: Option<u64>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            block_size: 4096,
            blocks_per_request: 32,
            request_timeout: Duration::from_secs(10),
            max_requests_without_data: 32,
            encoding: Encoding::Cbor,
            drop_after_blocks: None,
        }
    }
}

/// What a download took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub blocks: u64,
    pub requests: u64,
    /// Data messages received, duplicates included.
    pub data_messages: u64,
    /// With `drop_after_blocks`: blocks still missing when the connection
    /// dropped, and blocks asked for after it.
    pub missing_at_drop: Option<u64>,
    pub requested_after_drop: u64,
    /// From the first request to the last block written.
    pub elapsed: Duration,
}

/// One received block.
struct Block {
    file_id: i64,
    index: u64,
    len: u64,
    payload: Vec<u8>,
}

fn cbor_get<'a>(map: &'a [(Cbor, Cbor)], key: &str) -> Option<&'a Cbor> {
    map.iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
}

fn cbor_int(map: &[(Cbor, Cbor)], key: &str) -> Option<i128> {
    cbor_get(map, key)?.as_integer().map(i128::from)
}

fn decode_block(payload: &[u8], encoding: Encoding) -> Result<Block, String> {
    match encoding {
        Encoding::Cbor => {
            let value: Cbor =
                ciborium::from_reader(payload).map_err(|e| format!("not CBOR: {e}"))?;
            let map = value.as_map().ok_or("not a CBOR map")?;
            let p = cbor_get(map, "p")
                .and_then(Cbor::as_bytes)
                .ok_or("no byte string p")?;
            Ok(Block {
                file_id: cbor_int(map, "f").ok_or("no f")? as i64,
                index: u64::try_from(cbor_int(map, "i").ok_or("no i")?).map_err(|_| "bad i")?,
                len: u64::try_from(cbor_int(map, "l").ok_or("no l")?).map_err(|_| "bad l")?,
                payload: p.clone(),
            })
        }
        Encoding::Json => {
            let v: serde_json::Value =
                serde_json::from_slice(payload).map_err(|e| format!("not JSON: {e}"))?;
            let p = base64::engine::general_purpose::STANDARD
                .decode(v["p"].as_str().ok_or("no string p")?)
                .map_err(|e| format!("p is not base64: {e}"))?;
            Ok(Block {
                file_id: v["f"].as_i64().ok_or("no f")?,
                index: v["i"].as_u64().ok_or("no i")?,
                len: v["l"].as_u64().ok_or("no l")?,
                payload: p,
            })
        }
    }
}

/// The reason in a rejected answer (`o` code, `m` message).
fn rejection(payload: &[u8], encoding: Encoding) -> String {
    let (code, message) = match encoding {
        Encoding::Cbor => ciborium::from_reader::<Cbor, _>(payload)
            .ok()
            .and_then(|v| {
                let map = v.as_map()?.clone();
                let text = |k| {
                    cbor_get(&map, k)
                        .and_then(Cbor::as_text)
                        .map(str::to_string)
                };
                Some((text("o").unwrap_or_default(), text("m").unwrap_or_default()))
            })
            .unwrap_or_default(),
        Encoding::Json => serde_json::from_slice::<serde_json::Value>(payload)
            .map(|v| {
                (
                    v["o"].as_str().unwrap_or_default().to_string(),
                    v["m"].as_str().unwrap_or_default().to_string(),
                )
            })
            .unwrap_or_default(),
    };
    format!("{code}: {message}")
}

/// A GetStream request for the blocks `wanted` (ascending, not empty).
fn request(file_id: u8, block_size: u32, wanted: &[u64], encoding: Encoding) -> Vec<u8> {
    let first = wanted[0];
    let span = (wanted[wanted.len() - 1] - first + 1) as usize;
    let mut bitmap = vec![0u8; span.div_ceil(8)];
    for i in wanted {
        let k = (i - first) as usize;
        bitmap[k / 8] |= 1 << (k % 8);
    }
    match encoding {
        Encoding::Cbor => {
            let map = Cbor::Map(vec![
                (Cbor::Text("c".into()), Cbor::Text("rdy".into())),
                (Cbor::Text("f".into()), Cbor::Integer(file_id.into())),
                (Cbor::Text("l".into()), Cbor::Integer(block_size.into())),
                (Cbor::Text("o".into()), Cbor::Integer(first.into())),
                (Cbor::Text("b".into()), Cbor::Bytes(bitmap)),
                (
                    Cbor::Text("n".into()),
                    Cbor::Integer((wanted.len() as u64).into()),
                ),
            ]);
            let mut out = Vec::new();
            // Writing into a Vec cannot fail.
            let _ = ciborium::into_writer(&map, &mut out);
            out
        }
        Encoding::Json => {
            let hex: String = bitmap.iter().map(|b| format!("{b:02x}")).collect();
            serde_json::json!({"c": "rdy", "f": file_id, "l": block_size, "o": first,
                "b": format!("0x{hex}"), "n": wanted.len()})
            .to_string()
            .into_bytes()
        }
    }
}

/// Downloads file `file_id` of `stream_id` (`size` bytes) into `path`,
/// calling `on_bytes` with the bytes written so far after every block.
pub async fn download(
    link: &MqttLink,
    stream_id: &str,
    file_id: u8,
    size: u64,
    path: &Path,
    options: &StreamOptions,
    mut on_bytes: impl AsyncFnMut(u64),
) -> Result<StreamStats, String> {
    let block_size = u64::from(options.block_size.clamp(256, 131_072));
    let blocks = size.div_ceil(block_size).max(1);
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| format!("creating {}: {e}", path.display()))?;
    file.set_len(size)
        .await
        .map_err(|e| format!("sizing {}: {e}", path.display()))?;
    let mut have = vec![false; blocks as usize];
    let mut missing = blocks;
    let mut written: u64 = 0;
    let began = std::time::Instant::now();
    let mut stats = StreamStats {
        blocks,
        ..StreamStats::default()
    };
    let mut inbox = link.open_stream(stream_id);
    let topic = format!(
        "$aws/things/{}/streams/{stream_id}/get/{}",
        link.thing(),
        options.encoding.suffix()
    );
    let per_request = u64::from(options.blocks_per_request.max(1));
    let mut without_data = 0u32;
    let mut dropped = false;
    while missing > 0 {
        let generation = link
            .wait_ready(0, options.request_timeout)
            .await
            .map_err(|e| format!("stream {stream_id}: {e}"))?;
        // The lowest missing blocks, at most per_request of them.
        let wanted: Vec<u64> = (0..blocks)
            .filter(|i| !have[*i as usize])
            .take(per_request as usize)
            .collect();
        let body = request(file_id, block_size as u32, &wanted, options.encoding);
        link.publish(&topic, body)
            .await
            .map_err(|e: MqttError| format!("stream {stream_id}: {e}"))?;
        stats.requests += 1;
        if dropped {
            stats.requested_after_drop += wanted.len() as u64;
        }
        let mut outstanding = wanted.len();
        let mut got_any = false;
        // Take blocks until this request's are all here, the timeout passes
        // without one, or the connection came back (the broker forgets
        // what a dropped connection asked for).
        while outstanding > 0 {
            let next = tokio::time::timeout(options.request_timeout, inbox.rx.recv()).await;
            let (answer_topic, payload) = match next {
                Ok(Some(m)) => m,
                Ok(None) => return Err(format!("stream {stream_id}: the connection is closed")),
                Err(_) => break,
            };
            if answer_topic.ends_with(&format!("/rejected/{}", options.encoding.suffix())) {
                return Err(format!(
                    "stream {stream_id} file {file_id}: GetStream rejected: {}",
                    rejection(&payload, options.encoding)
                ));
            }
            if !answer_topic.ends_with(&format!("/data/{}", options.encoding.suffix())) {
                continue;
            }
            stats.data_messages += 1;
            let block = decode_block(&payload, options.encoding).map_err(|e| {
                format!("stream {stream_id}: a data block that cannot be read ({e})")
            })?;
            if block.file_id != i64::from(file_id) || block.index >= blocks {
                continue;
            }
            let expected = if block.index == blocks - 1 {
                size - block.index * block_size
            } else {
                block_size
            };
            if block.len != expected || block.payload.len() as u64 != expected {
                return Err(format!(
                    "stream {stream_id}: block {} has {} bytes (l = {}), expected {expected}",
                    block.index,
                    block.payload.len(),
                    block.len
                ));
            }
            got_any = true;
            if have[block.index as usize] {
                continue;
            }
            file.seek(std::io::SeekFrom::Start(block.index * block_size))
                .await
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            file.write_all(&block.payload)
                .await
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            have[block.index as usize] = true;
            missing -= 1;
            written += expected;
            outstanding = outstanding.saturating_sub(1);
            on_bytes(written).await;
            if let Some(after) = options.drop_after_blocks {
                if !dropped && blocks - missing >= after && missing > 0 {
                    dropped = true;
                    stats.missing_at_drop = Some(missing);
                    link.drop_connection();
                    // Wait for the reconnect before asking again.
                    link.wait_ready(generation, options.request_timeout * 3)
                        .await
                        .map_err(|e| format!("stream {stream_id}: {e}"))?;
                    break;
                }
            }
            if link.generation() != generation {
                break;
            }
        }
        if got_any {
            without_data = 0;
        } else {
            without_data += 1;
            if without_data >= options.max_requests_without_data.max(1) {
                return Err(format!(
                    "download timed out: no block of stream {stream_id} for {} requests in a row ({:?} each); {missing} of {blocks} blocks missing",
                    without_data, options.request_timeout
                ));
            }
        }
    }
    file.flush()
        .await
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    stats.elapsed = began.elapsed();
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bitmap_is_relative_to_the_first_block_least_significant_bit_first() {
        // The developer guide's example: blocks 20, 21, 24 and 43 from o = 20
        // are the bytes 13 00 80.
        let json = request(0, 1024, &[20, 21, 24, 43], Encoding::Json);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["b"], "0x130080");
        assert_eq!((v["o"].as_u64(), v["n"].as_u64()), (Some(20), Some(4)));
        let cbor = request(2, 4096, &[0, 1, 4, 23], Encoding::Cbor);
        let v: Cbor = ciborium::from_reader(&cbor[..]).unwrap();
        let map = v.as_map().unwrap();
        assert_eq!(
            cbor_get(map, "b").and_then(Cbor::as_bytes),
            Some(&vec![0x13, 0, 0x80])
        );
        assert_eq!(cbor_int(map, "f"), Some(2));
        assert_eq!(cbor_int(map, "l"), Some(4096));
    }

    #[test]
    fn blocks_decode_from_both_encodings() {
        let mut cbor = Vec::new();
        ciborium::into_writer(
            &Cbor::Map(vec![
                (Cbor::Text("f".into()), Cbor::Integer(0.into())),
                (Cbor::Text("i".into()), Cbor::Integer(7.into())),
                (Cbor::Text("l".into()), Cbor::Integer(3.into())),
                (Cbor::Text("p".into()), Cbor::Bytes(vec![1, 2, 3])),
            ]),
            &mut cbor,
        )
        .unwrap();
        let b = decode_block(&cbor, Encoding::Cbor).unwrap();
        assert_eq!((b.index, b.len, b.payload), (7, 3, vec![1, 2, 3]));
        let json = br#"{"c":"rdy","f":0,"l":3,"i":7,"p":"AQID"}"#;
        let b = decode_block(json, Encoding::Json).unwrap();
        assert_eq!((b.index, b.len, b.payload), (7, 3, vec![1, 2, 3]));
        assert!(decode_block(b"{}", Encoding::Json).is_err());
        assert_eq!(
            rejection(
                br#"{"o":"ResourceNotFound","m":"no such stream"}"#,
                Encoding::Json
            ),
            "ResourceNotFound: no such stream"
        );
    }
}
