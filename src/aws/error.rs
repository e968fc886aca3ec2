use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// An AWS call that failed: which operation, on which resource, AWS's error code and
/// message. Displayed in one line, without a Debug dump.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct AwsError {
    pub operation: &'static str,
    pub resource: String,
    pub code: String,
    pub message: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} failed: {}: {}",
            self.operation, self.resource, self.code, self.message
        )
    }
}

impl AwsError {
    pub fn local(
        operation: &'static str,
        resource: impl Into<String>,
        code: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            operation,
            resource: resource.into(),
            code: code.to_string(),
            message: message.into(),
        }
    }

    // Taking the error by value lets call sites write `map_err(|e| ...)` as is.
    #[allow(clippy::needless_pass_by_value)]
    pub fn from_sdk<E, R>(
        operation: &'static str,
        resource: impl Into<String>,
        error: SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + 'static,
    {
        let (code, message) = match &error {
            SdkError::ServiceError(service) => {
                let inner = service.err();
                (
                    inner.code().unwrap_or("Unknown").to_string(),
                    inner
                        .message()
                        .map_or_else(|| inner.to_string(), ToString::to_string),
                )
            }
            // Missing credentials surface as a dispatch failure whose cause is the last
            // provider tried (often instance metadata); say what actually went wrong.
            SdkError::DispatchFailure(_) if DisplayErrorContext(&error).to_string().contains("credentials") => (
                "NoCredentials".into(),
                // The chain's own report lists every provider on lines of their own
                // (shown with -vv); one line says what to do.
                format!(
                    "no AWS credentials found (looked in the environment, the profile files, SSO, web identity, ECS and instance metadata): {}; set AWS_PROFILE (and run `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                    root_cause(&error).lines().next().unwrap_or_default().trim_end_matches(". Attempted:").trim_end_matches(':')
                ),
            ),
            SdkError::DispatchFailure(_) => ("DispatchFailure".into(), root_cause(&error)),
            SdkError::TimeoutError(_) => ("Timeout".into(), root_cause(&error)),
            SdkError::ResponseError(_) => ("ResponseError".into(), root_cause(&error)),
            SdkError::ConstructionFailure(_) => ("ConstructionFailure".into(), root_cause(&error)),
            _ => ("Unknown".into(), root_cause(&error)),
        };
        Self {
            operation,
            resource: resource.into(),
            code,
            message,
        }
    }

    /// Whether AWS said the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code.as_str(),
            "NotFound"
                | "NotFoundException"
                | "ResourceNotFound"
                | "ResourceNotFoundException"
                // Application Auto Scaling's
                | "ObjectNotFoundException"
        )
    }

    /// Whether a deletion failed because there is nothing left to delete: not found, or
    /// what moto's Application Auto Scaling answers where AWS answers
    /// `ObjectNotFoundException` (`ValidationException: No scaling policy found ...`,
    /// `No scalable target found ...`).
    pub fn is_gone(&self) -> bool {
        self.is_not_found()
            || (self.code == "ValidationException"
                && (self.message.starts_with("No scaling policy found")
                    || self.message.starts_with("No scalable target found")))
    }
}

/// The innermost cause: "Connection refused (os error 111)" rather than "dispatch failure".
pub(super) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = current.to_string();
    if text.is_empty() {
        DisplayErrorContext(error).to_string()
    } else {
        text
    }
}

impl AwsError {
    /// An endpoint that does not implement the API (an emulator, or a partition without
    /// the service): the message says how to plan without the kind.
    #[must_use]
    pub fn suggest_exclude(mut self, kind: &str) -> Self {
        let unimplemented = matches!(
            self.code.as_str(),
            "InternalFailure"
                | "NotImplemented"
                | "UnknownOperationException"
                | "InvalidAction"
                // An answer the SDK cannot read at all (moto's 500 for an operation it
                // lacks) says nothing more precise.
                | "Unknown"
        ) || self.message.contains("not implemented")
            || self.message.contains("not yet been emulated");
        if unimplemented {
            self.message = format!(
                "{} (the endpoint does not seem to implement {}; plan without `{kind}` with --exclude {kind})",
                self.message, self.operation
            );
        }
        self
    }
}

/// The retry policy: which failures are worth another attempt.
impl AwsError {
    /// Throttling and transient failures; a request AWS rejects as invalid is not.
    pub fn is_retryable(&self) -> bool {
        self.is_throttling()
            || matches!(
                self.code.as_str(),
                "ServiceUnavailable" | "InternalError" | "DispatchFailure" | "Timeout"
            )
    }

    /// AWS said to slow down.
    pub fn is_throttling(&self) -> bool {
        let code = self.code.as_str();
        code.contains("Throttl")
            || matches!(
                code,
                "RequestLimitExceeded" | "TooManyRequestsException" | "SlowDown"
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_retried_and_invalid_input_is_not() {
        let error = |code: &str| AwsError::local("PutMetricAlarm", "alarm a", code, "x");
        assert!(error("Throttling").is_retryable());
        assert!(error("ThrottlingException").is_throttling());
        assert!(error("DispatchFailure").is_retryable());
        assert!(!error("DispatchFailure").is_throttling());
        assert!(!error("ValidationError").is_retryable());
        assert!(!error("InvalidParameterValue").is_retryable());
    }

    #[test]
    fn a_deletion_of_what_is_gone_is_recognised_in_each_services_words() {
        let error = |code: &str, message: &str| {
            AwsError::local("DeleteScalingPolicy", "scaling policy p", code, message)
        };
        for code in [
            "NotFound",
            "ResourceNotFound",
            "ResourceNotFoundException",
            "ObjectNotFoundException",
        ] {
            assert!(error(code, "x").is_gone(), "{code}");
        }
        assert!(error(
            "ValidationException",
            "No scaling policy found for service namespace: ecs, resource ID: service/c/s"
        )
        .is_gone());
        assert!(error(
            "ValidationException",
            "No scalable target found for service namespace: ecs"
        )
        .is_gone());
        // Any other invalid request is an error, whatever it deletes.
        assert!(!error("ValidationException", "Invalid policy name").is_gone());
        assert!(!error("AccessDenied", "No scaling policy found").is_gone());
        assert!(!error("InternalFailure", "x").is_gone());
    }
}
