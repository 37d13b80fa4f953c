//! Validity periods: `--days N` or `--expires YYYY-MM-DD` (the end of that day in UTC).

use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, Time};

use crate::error::{Error, Result};

/// How long a certificate should be valid, as the user asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// This many days from now.
    Days(u32),
    /// Until the end of this day (23:59:59 UTC).
    Until(Date),
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> std::result::Result<Date, String> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2030-12-31"))
}

/// The longest validity `--days` may ask for: a hundred years (far beyond any certificate's sense, and far
/// inside what dates can hold).
pub const MAX_DAYS: u32 = 36_525;

/// Refuses a number of days outside 1..=[`MAX_DAYS`], naming `flag` and the range.
pub fn check_days(flag: &str, days: u32, what: &str) -> Result<()> {
    match days {
        0 => Err(Error::BadInput(format!(
            "{flag} 0 gives {what} that is never valid; use 1 or more"
        ))),
        d if d > MAX_DAYS => Err(Error::BadInput(format!(
            "{flag} {d} is out of range: use 1 to {MAX_DAYS} (a hundred years), or --expires YYYY-MM-DD"
        ))),
        _ => Ok(()),
    }
}

/// Clock skew allowance: notBefore is set this far in the past so that a server whose clock is a little behind
/// does not reject a certificate issued a moment ago.
pub const BACKDATE: Duration = Duration::minutes(1);

/// A validity period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// Resolves a lifetime against the current time; refuses zero days and dates in the past.
    pub fn starting_now(lifetime: Lifetime) -> Result<Self> {
        let now = now_utc_seconds()?;
        let not_after = match lifetime {
            Lifetime::Days(days) => {
                check_days("--days", days, "a certificate")?;
                now + Duration::days(days.into())
            }
            Lifetime::Until(date) => {
                let end = date.with_time(Time::MIDNIGHT).assume_utc() + Duration::seconds(86_399);
                if end <= now {
                    return Err(Error::BadInput(format!(
                        "--expires {date} is in the past; give a future date (YYYY-MM-DD)"
                    )));
                }
                end
            }
        };
        if not_after.year() > 9999 {
            return Err(Error::BadInput(
                "the validity runs past the year 9999; choose fewer days".into(),
            ));
        }
        Ok(Validity {
            not_before: now - BACKDATE,
            not_after,
        })
    }
}

/// The current time in UTC, to the second (certificates and CRLs carry whole seconds).
pub fn now_utc_seconds() -> Result<OffsetDateTime> {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(|e| Error::Clock(e.to_string()))
}

/// RFC 3339 UTC text, e.g. `2030-12-31T23:59:59Z`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_means_end_of_day_utc_and_past_is_refused() {
        let v = Validity::starting_now(Lifetime::Until(parse_date("2099-03-04").expect("date")))
            .expect("validity");
        assert_eq!(rfc3339(v.not_after), "2099-03-04T23:59:59Z");
        assert!(
            Validity::starting_now(Lifetime::Until(parse_date("2001-01-01").expect("date")))
                .is_err()
        );
        assert!(Validity::starting_now(Lifetime::Days(0)).is_err());
        let huge = Validity::starting_now(Lifetime::Days(u32::MAX)).expect_err("no panic");
        assert!(huge.to_string().contains("1 to 36525"), "{huge}");
        assert!(parse_date("31/12/2030").is_err());
    }
}
