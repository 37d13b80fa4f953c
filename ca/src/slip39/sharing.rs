//! Splitting a secret into SLIP-39 shares and combining them again: the encryption of the master secret, the
//! two levels of sharing (groups, then members), and the checks that shares belong together.

use zeroize::Zeroizing;

use super::cipher;
use super::error::ShareError;
use super::gf256;
use super::share::Share;

/// At most this many shares in a group, and groups in a split.
pub const MAX_SHARES: u8 = 16;

/// How to split: `group_threshold` of the groups, each `(member_threshold, member_count)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheme {
    /// How many groups restore the secret.
    pub group_threshold: u8,
    /// Each group's (threshold, count).
    pub groups: Vec<(u8, u8)>,
}

impl Scheme {
    /// M of N in one group.
    pub fn single(threshold: u8, count: u8) -> Self {
        Scheme {
            group_threshold: 1,
            groups: vec![(threshold, count)],
        }
    }

    /// What is wrong with this scheme, if anything (SLIP-39's own rules).
    pub fn problem(&self) -> Option<String> {
        let groups = self.groups.len();
        if groups == 0 || groups > usize::from(MAX_SHARES) {
            return Some(format!("between 1 and {MAX_SHARES} groups are allowed"));
        }
        if self.group_threshold == 0 || usize::from(self.group_threshold) > groups {
            return Some("the group threshold must be between 1 and the number of groups".into());
        }
        for &(m, n) in &self.groups {
            if n == 0 || n > MAX_SHARES || m == 0 || m > n {
                return Some(format!(
                    "each group needs 1 <= threshold <= shares <= {MAX_SHARES} (got {m} of {n})"
                ));
            }
            if m == 1 && n > 1 {
                return Some(format!(
                    "a group of {n} shares with threshold 1 would copy the secret {n} times; use 1 of 1"
                ));
            }
        }
        None
    }
}

/// Splits `secret` (16 to 32 bytes, even; `random` gives the randomness) into shares, grouped as `scheme`
/// says, under `passphrase` (printable ASCII; certkit uses the empty one) and an iteration exponent `e`
/// (10,000 x 2^e PBKDF2 iterations in all). The shares are extendable SLIP-39 shares.
pub fn split(
    secret: &[u8],
    scheme: &Scheme,
    passphrase: &[u8],
    e: u8,
    random: &mut dyn FnMut(&mut [u8]),
) -> Result<Vec<Vec<Share>>, String> {
    if let Some(problem) = scheme.problem() {
        return Err(problem);
    }
    if secret.len() < 16 || !secret.len().is_multiple_of(2) || secret.len() > 32 || e > 15 {
        return Err("the secret must be 16 to 32 bytes, an even number".into());
    }
    let mut id = [0u8; 2];
    random(&mut id);
    let identifier = u16::from_be_bytes(id) & 0x7fff;
    let extendable = true;
    let encrypted = cipher::encrypt(secret, passphrase, e, identifier, extendable);
    let group_secrets = gf256::split(
        scheme.group_threshold,
        scheme.groups.len() as u8,
        &encrypted,
        random,
    );
    let mut out = Vec::new();
    for (group_index, (&(m, n), group_secret)) in
        scheme.groups.iter().zip(group_secrets.iter()).enumerate()
    {
        let members = gf256::split(m, n, &group_secret.1, random);
        out.push(
            members
                .into_iter()
                .map(|(index, value)| Share {
                    identifier,
                    extendable,
                    iteration_exponent: e,
                    group_index: group_index as u8,
                    group_threshold: scheme.group_threshold,
                    group_count: scheme.groups.len() as u8,
                    index,
                    member_threshold: m,
                    value,
                })
                .collect(),
        );
    }
    Ok(out)
}

/// Combines exactly the threshold of shares (of groups and of members in each) back into the secret.
pub fn combine(shares: &[Share], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, ShareError> {
    let first = shares.first().ok_or(ShareError::Empty)?;
    let mut groups: Vec<(u8, Vec<&Share>)> = Vec::new();
    for share in shares {
        if let Some(differs) = first.differs_in_split(share) {
            return Err(ShareError::OtherSplit(share.label(), differs));
        }
        match groups.iter_mut().find(|(g, _)| *g == share.group_index) {
            Some((_, members)) => {
                if let Some(differs) = members[0].differs_in_group(share) {
                    return Err(ShareError::OtherSplit(share.label(), differs));
                }
                if members.iter().any(|m| m.index == share.index) {
                    return Err(ShareError::Duplicate(share.label()));
                }
                members.push(share);
            }
            None => groups.push((share.group_index, vec![share])),
        }
    }
    let need = usize::from(first.group_threshold);
    if groups.len() < need {
        return Err(ShareError::TooFewGroups {
            have: groups.len(),
            need,
        });
    }
    if groups.len() > need {
        return Err(ShareError::TooMany {
            have: groups.len(),
            need,
        });
    }
    let mut group_secrets = Vec::new();
    for (group_index, members) in &groups {
        let need = usize::from(members[0].member_threshold);
        if members.len() != need {
            return Err(if members.len() < need {
                ShareError::TooFewShares {
                    have: members.len(),
                    need,
                }
            } else {
                ShareError::TooMany {
                    have: members.len(),
                    need,
                }
            });
        }
        let points: Vec<(u8, &[u8])> = members
            .iter()
            .map(|m| (m.index, m.value.as_slice()))
            .collect();
        group_secrets.push((*group_index, gf256::recover(need, &points)?));
    }
    let points: Vec<(u8, &[u8])> = group_secrets
        .iter()
        .map(|(i, s)| (*i, s.as_slice()))
        .collect();
    let encrypted = gf256::recover(need, &points)?;
    Ok(cipher::decrypt(
        &encrypted,
        passphrase,
        first.iteration_exponent,
        first.identifier,
        first.extendable,
    ))
}
