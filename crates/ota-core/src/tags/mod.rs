//! The tag grammar: S3 object tags under the `ota:` prefix <-> a RequestSpec.
//!
//! S3 allows at most 10 tags per object, keys up to 128 and values up to 256
//! characters, and only letters, digits, spaces and `+ - = . _ : / @`. Every
//! value below is written in those characters (lists are space-separated), so
//! a cron expression cannot be a tag: the weekly window form stands in for it
//! and the manifest carries raw cron.
//!
//! Its parts, all re-exported here: `parse` (tags -> RequestSpec), `render`
//! (RequestSpec -> tags), `s3_rules` (S3's count, length and character rules,
//! and the `x-amz-tagging` string), `rollout` (the rollout tag's grammar) and
//! `examples` (a valid value of every tag).

mod examples;
mod parse;
mod render;
mod rollout;
mod s3_rules;

pub use examples::{example_of, EXAMPLES};
pub use parse::parse_tags;
pub use render::render_tags;
pub use rollout::{parse_rollout, render_rollout, ROLLOUT_GRAMMAR};
pub use s3_rules::{
    check_s3_tag_rules, is_tag_char, tagging_string, MAX_KEY_LEN, MAX_TAGS, MAX_VALUE_LEN,
};

/// The prefix every pipeline tag key starts with.
pub const TAG_PREFIX: &str = "ota:";

#[cfg(test)]
mod test_support {
    /// Tags from `(key, value)` pairs.
    pub(super) fn t(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}
