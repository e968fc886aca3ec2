//! A connection that fails names the endpoint it tried.
//!
//! The SDK's dispatch failure says only "Connection refused (os error 111)" or "dns
//! error": with `AWS_ENDPOINT_URL_<SERVICE>` variables, a `--endpoint-url` and the
//! regional defaults in play, which endpoint was refused is the first thing to know.
//! This interceptor remembers each attempt's endpoint (scheme, host and port only: a
//! path or query could carry something private) and, when the attempt ends in a
//! connector error, puts the endpoint into the error's message, keeping its kind (so
//! the retry policy still sees an I/O error or a timeout).

use std::fmt;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

#[derive(Clone, Debug, Default)]
pub(super) struct NameEndpoint;

/// The endpoint of the attempt in flight.
#[derive(Clone, Debug)]
struct Attempted(String);

impl Storable for Attempted {
    type Storer = StoreReplace<Self>;
}

/// The connector's failure, with the endpoint in front. No `source()`: this is the text
/// the error report shows as the root cause.
#[derive(Debug)]
struct Unreachable {
    endpoint: String,
    cause: String,
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot reach {}: {}", self.endpoint, self.cause)
    }
}

impl std::error::Error for Unreachable {}

impl Intercept for NameEndpoint {
    fn name(&self) -> &'static str {
        "monplan::NameEndpoint"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(endpoint) = origin(context.request().uri()) {
            cfg.interceptor_state().store_put(Attempted(endpoint));
        }
        Ok(())
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Attempted(endpoint)) = cfg.load::<Attempted>().cloned() else {
            return Ok(()); // never sent (e.g. no credentials): no endpoint to name
        };
        let Some(result) = context.output_or_error_mut() else {
            return Ok(());
        };
        let Err(error) = result else { return Ok(()) };
        let Some(connector) = error.as_connector_error() else {
            return Ok(());
        };
        let named: BoxError = Box::new(Unreachable {
            endpoint,
            cause: super::error::root_cause(connector),
        });
        let renamed = if connector.is_timeout() {
            ConnectorError::timeout(named)
        } else if connector.is_user() {
            ConnectorError::user(named)
        } else if connector.is_io() {
            ConnectorError::io(named)
        } else {
            ConnectorError::other(named, connector.as_other())
        };
        *error = OrchestratorError::connector(renamed);
        Ok(())
    }
}

/// `scheme://host[:port]` of a request URI, without user info, path or query.
fn origin(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn the_origin_keeps_scheme_host_and_port_and_drops_the_rest() {
        assert_eq!(
            origin("http://127.0.0.1:4566/?Action=DescribeAlarms").as_deref(),
            Some("http://127.0.0.1:4566")
        );
        assert_eq!(
            origin("https://user:secret@monitoring.us-east-1.amazonaws.com/path?q=1").as_deref(),
            Some("https://monitoring.us-east-1.amazonaws.com")
        );
        assert_eq!(origin("not a uri"), None);
        assert_eq!(origin("https:///x"), None);
    }
}
