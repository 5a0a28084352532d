//! Signature verification against fixtures made with Python's
//! `cryptography` (a self-signed code-signing certificate per key type and
//! a signature over tests/fixtures/firmware.bin), not by this crate: ECDSA
//! P-256/SHA-256 as AWS Signer writes it (DER), and RSA PKCS#1 v1.5.

use ota_device::verify::verify_signature;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap().trim().to_string()
}

#[test]
fn ecdsa_and_rsa_signatures_verify_over_the_exact_bytes_only() {
    let firmware = fixture("firmware.bin");
    for (key, cert, sig) in [
        (
            "sig-sha256-ecdsa",
            "ecdsa-signer.crt",
            "firmware.sig-sha256-ecdsa",
        ),
        (
            "sig-sha256-rsa",
            "rsa-signer.crt",
            "firmware.sig-sha256-rsa",
        ),
    ] {
        verify_signature(&firmware, key, &text(sig), &fixture(cert)).unwrap();
        let mut changed = firmware.clone();
        changed[100] ^= 1;
        let e = verify_signature(&changed, key, &text(sig), &fixture(cert)).unwrap_err();
        assert!(e.starts_with("signature mismatch"), "{e}");
    }
    // The other key's certificate, an unknown algorithm, a non-PEM file.
    let e = verify_signature(
        &firmware,
        "sig-sha256-ecdsa",
        &text("firmware.sig-sha256-ecdsa"),
        &fixture("rsa-signer.crt"),
    )
    .unwrap_err();
    assert!(e.starts_with("signature mismatch"), "{e}");
    let e = verify_signature(
        &firmware,
        "sig-sha1-rsa",
        &text("firmware.sig-sha256-rsa"),
        &fixture("rsa-signer.crt"),
    )
    .unwrap_err();
    assert!(e.contains("cannot verify"), "{e}");
    let e = verify_signature(
        &firmware,
        "sig-sha256-ecdsa",
        &text("firmware.sig-sha256-ecdsa"),
        b"not a certificate",
    )
    .unwrap_err();
    assert!(e.contains("not PEM"), "{e}");
}
