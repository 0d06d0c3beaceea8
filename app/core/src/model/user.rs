//! Who is signed in, and the rules for user names and passwords, checked in the browser form
//! and on the server.

use super::Role;
use serde::{Deserialize, Serialize};

/// The signed-in, enabled user a request acts as (re-read from the database on every request,
/// so a role change or a disabled account takes effect at once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

pub const NAME_MAX: usize = 64;
pub const PASSWORD_MIN: usize = 12;
/// argon2 accepts more, but a longer "password" is a paste accident or an attack.
pub const PASSWORD_MAX: usize = 256;

/// A user name: 1–64 of letters, digits, `.`, `_`, `-`, starting with a letter or digit.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("User name is required.".into());
    }
    if name.chars().count() > NAME_MAX {
        return Err(format!("User name is longer than {NAME_MAX} characters."));
    }
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return Err("User name must start with a letter or digit.".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "User name may only hold letters, digits, '.', '_' and '-' (found {bad:?})."
        ));
    }
    Ok(())
}

pub fn validate_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Err(format!(
            "Password must be at least {PASSWORD_MIN} characters ({n} given)."
        ));
    }
    if n > PASSWORD_MAX {
        return Err(format!(
            "Password must be at most {PASSWORD_MAX} characters."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn name_boundaries() {
        assert!(validate_name("a").is_ok());
        assert!(validate_name(&"a".repeat(NAME_MAX)).is_ok());
        assert!(validate_name(&"a".repeat(NAME_MAX + 1))
            .unwrap_err()
            .contains("longer than 64"));
        assert!(validate_name("").unwrap_err().contains("required"));
        assert!(validate_name("-x").unwrap_err().contains("start with"));
        assert!(validate_name("a b").unwrap_err().contains("' '"));
        assert!(validate_name("<script>").is_err());
    }

    #[test]
    fn password_boundaries() {
        assert!(validate_password(&"x".repeat(PASSWORD_MIN - 1))
            .unwrap_err()
            .contains("at least 12"));
        assert!(validate_password(&"x".repeat(PASSWORD_MIN)).is_ok());
        assert!(validate_password(&"x".repeat(PASSWORD_MAX)).is_ok());
        assert!(validate_password(&"x".repeat(PASSWORD_MAX + 1)).is_err());
    }

    proptest! {
        #[test]
        fn generated_valid_names_pass(name in "[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}") {
            prop_assert!(validate_name(&name).is_ok());
        }

        #[test]
        fn any_forbidden_char_fails(prefix in "[a-z]{1,10}", bad in "[^a-zA-Z0-9._-]") {
            let name = format!("{prefix}{bad}");
            prop_assert!(validate_name(&name).is_err());
        }
    }
}
