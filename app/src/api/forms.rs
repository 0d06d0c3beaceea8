//! Reading form fields: numbers arrive as text (a form without JavaScript sends whatever was
//! typed), so each is parsed here with a message that names the field.

use crate::error::AppError;

/// A required whole number.
pub fn number<T: std::str::FromStr>(label: &str, text: &str) -> Result<T, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::Invalid(format!("{label} is required.")));
    }
    text.parse()
        .map_err(|_| AppError::Invalid(format!("{label}: {text:?} is not a valid number.")))
}

/// An optional number: empty means absent.
pub fn optional<T: std::str::FromStr>(
    label: &str,
    text: Option<&str>,
) -> Result<Option<T>, AppError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => number(label, t).map(Some),
    }
}

/// Throttling from its two fields: both, or neither (the account's default).
pub fn throttle(
    rate: Option<&str>,
    burst: Option<&str>,
) -> Result<Option<portico_core::model::topology::Throttle>, AppError> {
    match (
        optional::<f64>("Throttle rate", rate)?,
        optional::<u32>("Throttle burst", burst)?,
    ) {
        (None, None) => Ok(None),
        (Some(rate), Some(burst)) => Ok(Some(portico_core::model::topology::Throttle {
            rate,
            burst,
        })),
        _ => Err(AppError::Invalid(
            "Throttling needs both a rate and a burst (or neither).".into(),
        )),
    }
}

/// The stage form's access-log choices, (value, label), read back by [`access_log`].
pub const ACCESS_LOG_MODES: [(&str, &str); 3] = [
    ("keep", "leave as set in AWS"),
    ("off", "off"),
    ("on", "on"),
];

/// The choice that shows a stage's access log on its form.
pub fn access_log_mode(log: Option<&portico_core::model::topology::AccessLogging>) -> &'static str {
    use portico_core::model::topology::AccessLogging;
    match log {
        None => ACCESS_LOG_MODES[0].0,
        Some(AccessLogging::Off) => ACCESS_LOG_MODES[1].0,
        Some(AccessLogging::To(_)) => ACCESS_LOG_MODES[2].0,
    }
}

/// A stage's access log from its three fields: the mode (`keep` leaves AWS's setting as it
/// is, `off`, `on`), the destination's ARN and the format (empty: the JSON default).
pub fn access_log(
    mode: Option<&str>,
    destination: Option<&str>,
    format: Option<&str>,
) -> Result<Option<portico_core::model::topology::AccessLogging>, AppError> {
    use portico_core::model::topology::{AccessLog, AccessLogging};
    let text = |t: Option<&str>| {
        t.map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    match mode.map(str::trim).unwrap_or_default() {
        "" => Ok(None),
        m if m == ACCESS_LOG_MODES[0].0 => Ok(None),
        m if m == ACCESS_LOG_MODES[1].0 => Ok(Some(AccessLogging::Off)),
        m if m == ACCESS_LOG_MODES[2].0 => match text(destination) {
            Some(destination) => Ok(Some(AccessLogging::To(AccessLog {
                destination,
                format: text(format),
            }))),
            None => Err(AppError::Invalid(
                "Access log destination is required: a log group's or a Firehose stream's ARN."
                    .into(),
            )),
        },
        other => Err(AppError::Invalid(format!(
            "Access log {other:?} is not one of keep, off or on."
        ))),
    }
}

/// Percent-encodes all but unreserved characters and '/', for links and form bodies.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A list typed as lines, commas or spaces: "i-1, i-2\ni-3".
pub fn list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `key=value` lines.
pub fn pairs(text: &str) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| {
                    AppError::Invalid(format!("Stage variable {l:?} is not name=value."))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_name_their_field() {
        assert_eq!(number::<u32>("Port", " 8080 "), Ok(8080));
        assert_eq!(
            number::<u32>("Port", "80a"),
            Err(AppError::Invalid(
                "Port: \"80a\" is not a valid number.".into()
            ))
        );
        assert_eq!(
            number::<u32>("Port", "-1").unwrap_err().to_string(),
            "Port: \"-1\" is not a valid number."
        );
        assert_eq!(optional::<u32>("x", Some("")), Ok(None));
    }

    #[test]
    fn urls_keep_slashes_and_encode_the_rest() {
        assert_eq!(urlencode("/audit?before=5&x"), "/audit%3Fbefore%3D5%26x");
        assert_eq!(urlencode("/dev/{proxy+}"), "/dev/%7Bproxy%2B%7D");
    }

    #[test]
    fn an_access_log_needs_a_destination_when_on() {
        use portico_core::model::topology::{AccessLog, AccessLogging};
        assert_eq!(access_log(None, Some("x"), None), Ok(None));
        assert_eq!(access_log(Some("keep"), None, None), Ok(None));
        assert_eq!(
            access_log(Some("off"), Some("x"), None),
            Ok(Some(AccessLogging::Off))
        );
        assert_eq!(
            access_log(Some("on"), Some(" arn "), Some("  ")),
            Ok(Some(AccessLogging::To(AccessLog {
                destination: "arn".into(),
                format: None
            })))
        );
        assert!(access_log(Some("on"), Some(" "), None)
            .unwrap_err()
            .to_string()
            .contains("destination is required"));
        assert!(access_log(Some("loud"), None, None).is_err());
    }

    #[test]
    fn lists_and_pairs() {
        assert_eq!(list("i-1, i-2\ni-3 "), vec!["i-1", "i-2", "i-3"]);
        assert_eq!(pairs("a=1\n b = 2 \n").unwrap().len(), 2);
        assert!(pairs("nope").is_err());
    }
}
