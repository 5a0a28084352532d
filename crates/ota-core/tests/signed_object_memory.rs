//! The signed-object reader holds a bounded amount of memory whatever it is
//! fed: a long payload, a long unwanted string, a long number, a long key,
//! deep nesting. A counting allocator (this test binary's only test, so no
//! other test allocates meanwhile) records the most bytes live at once while
//! several megabytes of each stream through in 64 KB chunks.

use ota_core::signed_object::SignedObjectReader;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwards the caller's layout to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Streams `prefix`, `repeat` x `unit`, `suffix` through a reader in 64 KB
/// chunks (the chunk itself reused) and returns the peak bytes live above
/// what was live before, and whether the reader accepted it.
fn peak_while_reading(prefix: &[u8], unit: &[u8], repeat: usize, suffix: &[u8]) -> (usize, bool) {
    let mut chunk = Vec::with_capacity(64 * 1024);
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let mut reader = SignedObjectReader::new();
    let mut ok = reader.feed(prefix).is_ok();
    let mut left = repeat;
    while ok && left > 0 {
        chunk.clear();
        while left > 0 && chunk.len() + unit.len() <= chunk.capacity() {
            chunk.extend_from_slice(unit);
            left -= 1;
        }
        ok = reader.feed(&chunk).is_ok();
    }
    ok = ok && reader.feed(suffix).is_ok() && reader.finish().is_ok();
    (PEAK.load(Ordering::SeqCst) - base, ok)
}

#[test]
fn memory_stays_bounded_whatever_the_input() {
    const HEAD: &[u8] =
        br#"{"rawPayloadSize":6291456,"signature":"MEUCIQ==","signatureAlgorithm":"SHA256withECDSA","#;
    // (what, prefix, unit, repeat, suffix, should the reader accept it)
    type Case = (&'static str, Vec<u8>, &'static [u8], usize, Vec<u8>, bool);
    let cases: Vec<Case> = vec![
        // 6 MB of firmware as 8 MB of base64: the real case.
        (
            "payload",
            [HEAD, br#""payload":""#].concat(),
            b"AAAA",
            2 * 1024 * 1024,
            br#""}"#.to_vec(),
            true,
        ),
        // 8 MB in a field nobody reads.
        (
            "unwanted string",
            [HEAD, br#""comment":""#].concat(),
            b"abcd",
            2 * 1024 * 1024,
            br#"","payload":"AAAA"}"#.to_vec(),
            false,
        ),
        // A wanted field grown past its limit must fail, not grow.
        (
            "oversized signature",
            br#"{"signature":""#.to_vec(),
            b"QUFB",
            2 * 1024 * 1024,
            br#""}"#.to_vec(),
            false,
        ),
        (
            "long number",
            [HEAD, br#""x":"#].concat(),
            b"1111",
            2 * 1024 * 1024,
            b"}".to_vec(),
            false,
        ),
        (
            "long key",
            [HEAD, br#"""#].concat(),
            b"kkkk",
            2 * 1024 * 1024,
            br#"":1}"#.to_vec(),
            false,
        ),
        (
            "deep nesting",
            Vec::new(),
            b"[",
            4 * 1024 * 1024,
            Vec::new(),
            false,
        ),
    ];
    for (what, prefix, unit, repeat, suffix, accepted) in cases {
        let (peak, ok) = peak_while_reading(&prefix, unit, repeat, &suffix);
        assert_eq!(ok, accepted, "{what}: accepted {ok}");
        // The reader's bounded state: a captured string up to 4 KB (its
        // buffer may double once past that), a 64-byte key, 32 levels. The
        // 64 KB chunk was allocated before counting started.
        assert!(peak < 16 * 1024, "{what}: {peak} bytes live at the peak");
    }
}
