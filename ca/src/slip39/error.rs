//! Why shares could not be read or combined.

use zeroize::Zeroizing;

/// Why shares could not be read or combined. Messages name the share (by its first words, never its value).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShareError {
    /// A word that is not in the SLIP-39 word list.
    /// (The message names the word by its place only: the word itself and the nearest entry of the list are
    /// for the custodian's own terminal, see [`ShareError::hint`].)
    #[error("word {position} of the share is not a SLIP-39 word")]
    UnknownWord {
        /// 1-based position in the share.
        position: usize,
        /// The word as typed.
        word: Zeroizing<String>,
        /// The closest word of the list, when one is close.
        nearest: Option<&'static str>,
    },
    /// Too few or too many words for any share.
    #[error(
        "a share has {0} words; a SLIP-39 share of a 128-bit secret has 20 and of a 256-bit secret 33"
    )]
    Length(usize),
    /// The checksum does not match: a word is wrong or two are swapped.
    #[error("{0} does not check out (a word is mistyped or two are swapped)")]
    Checksum(String),
    /// The padding bits of the value are not zero.
    #[error("{0} has invalid padding")]
    Padding(String),
    /// A group threshold above the number of groups.
    #[error("{0} says its group threshold exceeds its group count")]
    GroupThreshold(String),
    /// Shares of different splits, or of one split that disagree.
    #[error("{0} is not of the same split as the others ({1} differ)")]
    OtherSplit(String, &'static str),
    /// The same member index twice in a group.
    #[error("{0} was given twice (or two shares have the same index)")]
    Duplicate(String),
    /// Not enough groups.
    #[error("{have} of the {need} groups needed were given")]
    TooFewGroups {
        /// Groups given.
        have: usize,
        /// Groups needed.
        need: usize,
    },
    /// Not enough shares in a group.
    #[error("{have} of the {need} shares needed were given; {} more needed", need - have)]
    TooFewShares {
        /// Shares given (of the group that lacks them).
        have: usize,
        /// Shares needed.
        need: usize,
    },
    /// More groups or shares than the threshold: SLIP-39 takes exactly the threshold.
    #[error(
        "more shares than needed were given ({have} where {need} restore the secret); give exactly {need}"
    )]
    TooMany {
        /// Given.
        have: usize,
        /// Needed.
        need: usize,
    },
    /// The shares combine to a secret whose digest does not match: at least one is not of this split.
    #[error(
        "the shares do not combine (the secret's digest does not match): one is of another split or altered"
    )]
    Digest,
    /// No shares.
    #[error("no shares were given")]
    Empty,
    /// The value of a share is not of a length SLIP-39 allows.
    #[error("{0} holds a secret of a length SLIP-39 does not allow")]
    SecretLength(String),
}

impl ShareError {
    /// For the custodian's own terminal only: the mistyped word and the nearest word of the list.
    pub fn hint(&self) -> Option<String> {
        match self {
            ShareError::UnknownWord {
                word,
                nearest: Some(n),
                ..
            } => Some(format!(
                "'{}' is not in the list; did you mean '{n}'?",
                word.as_str()
            )),
            _ => None,
        }
    }
}
