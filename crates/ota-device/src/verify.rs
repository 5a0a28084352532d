//! Checking the downloaded file before it is reported done: its size is
//! the document's, and for afr_ota its signature verifies with the
//! code-signing certificate's public key (what the FreeRTOS agent's PAL
//! does before it activates an image). Nordic documents carry no
//! signature: the size is what aws_fota and Nordic's sample check, and
//! MCUboot verifies the image at boot.

use crate::plan::Plan;
use aws_lc_rs::digest;
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::Path;
use tokio::io::AsyncReadExt;

/// The digest and the verification algorithm for a document's signature
/// key: the hash and the key type the signer used (`sig-sha256-ecdsa`:
/// ECDSA P-256 over SHA-256, DER-encoded as AWS Signer writes it). The file
/// is hashed as it is read and the signature checked over the digest, so
/// memory does not grow with the file (devices stream to flash).
fn algorithms(
    key: &str,
) -> Option<(
    &'static digest::Algorithm,
    &'static dyn VerificationAlgorithm,
)> {
    Some(match key {
        "sig-sha256-ecdsa" => (&digest::SHA256, &sig::ECDSA_P256_SHA256_ASN1),
        "sig-sha384-ecdsa" => (&digest::SHA384, &sig::ECDSA_P384_SHA384_ASN1),
        "sig-sha256-rsa" => (&digest::SHA256, &sig::RSA_PKCS1_2048_8192_SHA256),
        "sig-sha384-rsa" => (&digest::SHA384, &sig::RSA_PKCS1_2048_8192_SHA384),
        "sig-sha512-rsa" => (&digest::SHA512, &sig::RSA_PKCS1_2048_8192_SHA512),
        _ => return None,
    })
}

/// A document's signature, ready to check against a digest.
struct Signature {
    key: String,
    digest: &'static digest::Algorithm,
    algorithm: &'static dyn VerificationAlgorithm,
    /// The certificate's SubjectPublicKeyInfo (DER).
    spki: Vec<u8>,
    raw: Vec<u8>,
}

impl Signature {
    fn new(key: &str, signature: &str, cert_pem: &[u8]) -> Result<Signature, String> {
        let (digest, algorithm) = algorithms(key)
            .ok_or_else(|| format!("signature key {key}: an algorithm this agent cannot verify"))?;
        let der = CertificateDer::from_pem_slice(cert_pem)
            .map_err(|e| format!("the code-signing certificate is not PEM: {e}"))?;
        let cert = webpki::EndEntityCert::try_from(&der)
            .map_err(|e| format!("the code-signing certificate cannot be parsed: {e}"))?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .map_err(|e| format!("{key} is not base64: {e}"))?;
        Ok(Signature {
            key: key.to_string(),
            digest,
            algorithm,
            spki: cert.subject_public_key_info().as_ref().to_vec(),
            raw,
        })
    }

    fn verify(&self, digest: &digest::Digest) -> Result<(), String> {
        UnparsedPublicKey::new(self.algorithm, &self.spki)
            .verify_digest(digest, &self.raw)
            .map_err(|_| {
                format!(
                    "signature mismatch: {} does not verify over the downloaded bytes with the code-signing certificate",
                    self.key
                )
            })
    }
}

/// Checks the file at `path` against `plan`: Ok with what was checked
/// (`signature` or `size`), Err with a reason a person can act on.
pub async fn check(
    plan: &Plan,
    path: &Path,
    signer_cert: Option<&[u8]>,
) -> Result<&'static str, String> {
    let signature = match &plan.signature {
        Some((key, signature)) => {
            let cert_pem = signer_cert.ok_or_else(|| {
                "the document is signed but this agent has no code-signing certificate (--signer-cert)"
                    .to_string()
            })?;
            Some(Signature::new(key, signature, cert_pem)?)
        }
        None => None,
    };
    let reading = |e: std::io::Error| format!("reading the downloaded file: {e}");
    let mut file = tokio::fs::File::open(path).await.map_err(reading)?;
    let mut context = signature.as_ref().map(|s| digest::Context::new(s.digest));
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size: u64 = 0;
    loop {
        let n = file.read(&mut buffer).await.map_err(reading)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if let Some(c) = context.as_mut() {
            c.update(&buffer[..n]);
        }
    }
    if size != plan.size {
        return Err(format!(
            "size mismatch: downloaded {size} bytes, the document says {}",
            plan.size
        ));
    }
    match (signature, context) {
        (Some(s), Some(c)) => {
            s.verify(&c.finish())?;
            Ok("signature")
        }
        _ => Ok("size"),
    }
}

/// Verifies `signature` (base64) under document key `key` over `message`
/// with the certificate in `cert_pem` (the same digest check as [`check`]).
pub fn verify_signature(
    message: &[u8],
    key: &str,
    signature: &str,
    cert_pem: &[u8],
) -> Result<(), String> {
    let s = Signature::new(key, signature, cert_pem)?;
    s.verify(&digest::digest(s.digest, message))
}
