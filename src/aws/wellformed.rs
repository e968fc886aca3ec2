//! A response body that is not a whole XML document is an error, not a read.
//!
//! The SDK's XML deserializer (awsQuery: `CloudWatch`, SNS, STS, Auto Scaling) stops at the
//! end of the input without checking that every element was closed: a 200 whose body was
//! cut short (a proxy, a dropped connection after the headers) reads as a shorter, valid
//! answer, and a listing missing its tail or its `NextToken` would be taken for the whole.
//! This interceptor checks, after deserialization, that an XML body is well-formed (one
//! root, every element closed, nothing but whitespace after it) and otherwise fails the
//! call, so the read fails with an error naming the operation.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Clone, Debug, Default)]
pub(super) struct WholeXml;

impl Intercept for WholeXml {
    fn name(&self) -> &'static str {
        "monplan::WholeXml"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.output_or_error().is_err() {
            return Ok(()); // an error already: the call fails anyway
        }
        let response = context.response();
        let xml = response
            .headers()
            .get("content-type")
            .is_some_and(|t| t.to_ascii_lowercase().contains("xml"));
        let Some(body) = response.body().bytes() else {
            return Ok(()); // streaming: not an XML listing
        };
        if !xml && !body.trim_ascii_start().starts_with(b"<") {
            return Ok(());
        }
        check(body).map_err(|problem| format!("malformed XML response: {problem}").into())
    }
}

/// Ok if `body` is one whole XML document.
fn check(body: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8 ({e})"))?;
    let mut open: Vec<&str> = Vec::new();
    let mut roots = 0_usize;
    for token in xmlparser::Tokenizer::from(text) {
        match token.map_err(|e| e.to_string())? {
            xmlparser::Token::ElementStart { local, .. } => {
                if open.is_empty() {
                    roots += 1;
                }
                open.push(local.as_str());
            }
            xmlparser::Token::ElementEnd { end, .. } => match end {
                xmlparser::ElementEnd::Open => {}
                xmlparser::ElementEnd::Empty => {
                    open.pop();
                }
                xmlparser::ElementEnd::Close(_, local) => {
                    if open.pop() != Some(local.as_str()) {
                        return Err(format!("unexpected </{}>", local.as_str()));
                    }
                }
            },
            _ => {}
        }
    }
    match (roots, open.last()) {
        (1, None) => Ok(()),
        (0, _) => Err("no root element".into()),
        (_, Some(element)) => Err(format!("cut short inside <{element}>")),
        _ => Err("more than one root element".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn whole_documents_pass_and_cut_ones_fail() {
        let whole = "<?xml version=\"1.0\"?>\n<R xmlns=\"x\"><A><B>1</B><C/></A></R>\n";
        assert_eq!(check(whole.as_bytes()), Ok(()));
        for cut in 1..whole.trim_end().len() {
            assert!(
                check(&whole.as_bytes()[..cut]).is_err(),
                "{:?}",
                &whole[..cut]
            );
        }
        assert!(check(b"<R></S>").is_err());
        assert!(check(b"<R/><R/>").is_err());
        assert!(check(b"garbage").is_err());
    }
}
