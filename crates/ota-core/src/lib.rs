//! The OTA pipeline's domain, with no I/O: the request model (tags, manifest,
//! stack defaults), validation, deterministic ids, the job document, the
//! signed-object reader, the pipeline state and the error taxonomy. The
//! Lambda functions and any local tool share it, so they agree on every rule.

pub mod create_job;
pub mod devices;
pub mod document_check;
pub mod error;
pub mod event;
pub mod ids;
pub mod job_document;
pub mod manifest;
pub mod package_version;
pub mod release;
pub mod request;
pub mod signed_object;
pub mod signing_wait;
pub mod spec;
pub mod state;
pub mod tags;
pub mod times;
pub mod values;

pub use error::{OtaError, Problem, Problems};
pub use request::{OtaRequest, RequestContext, Signing};
pub use spec::RequestSpec;
pub use state::PipelineState;
