//! Shares as custodians hand them over, one at a time: each checked as it arrives (its words, that it is of
//! the backup's split, not given before), with how many more are needed.

use zeroize::Zeroizing;

use crate::slip39::{self, Share, ShareError};

/// The shares gathered so far for one backup.
pub struct SharePile {
    split: u16,
    shares: Vec<Share>,
}

/// Where the gathering stands after a share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gathered {
    /// This many more shares are needed (at least, when groups are still unknown).
    More(usize),
    /// Enough to restore the secret.
    Enough,
}

impl SharePile {
    /// An empty pile for the backup whose split is `split`.
    pub fn new(split: u16) -> Self {
        SharePile {
            split,
            shares: Vec::new(),
        }
    }

    /// The backup's split (the identifier its header records).
    pub fn backup_split(&self) -> u16 {
        self.split
    }

    /// The split of the shares taken (their identifier), once there is one.
    pub fn split_given(&self) -> Option<u16> {
        self.shares.first().map(|s| s.identifier)
    }

    /// How many shares were taken.
    pub fn len(&self) -> usize {
        self.shares.len()
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.shares.is_empty()
    }

    /// Takes one share, read from `words`.
    pub fn add(&mut self, words: &str) -> Result<Gathered, ShareError> {
        let share = Share::parse(words)?;
        // Shares of another split of the same secret (made with the reference implementation from the secret)
        // are taken as well: whether they are the backup's is decided by whether their secret opens it. The
        // shares given must all be of one split.
        if let Some(first) = self.shares.first()
            && let Some(differs) = first.differs_in_split(&share)
        {
            return Err(ShareError::OtherSplit(share.label(), differs));
        }
        if let Some(same_group) = self
            .shares
            .iter()
            .find(|s| s.group_index == share.group_index)
        {
            if let Some(differs) = same_group.differs_in_group(&share) {
                return Err(ShareError::OtherSplit(share.label(), differs));
            }
            if self
                .shares
                .iter()
                .any(|s| s.group_index == share.group_index && s.index == share.index)
            {
                return Err(ShareError::Duplicate(share.label()));
            }
        }
        self.shares.push(share);
        Ok(self.progress())
    }

    /// Groups present: (group index, member threshold, members given).
    fn groups(&self) -> Vec<(u8, usize, usize)> {
        let mut groups: Vec<(u8, usize, usize)> = Vec::new();
        for share in &self.shares {
            match groups.iter_mut().find(|g| g.0 == share.group_index) {
                Some(g) => g.2 += 1,
                None => groups.push((share.group_index, usize::from(share.member_threshold), 1)),
            }
        }
        groups
    }

    /// How many more shares are needed.
    pub fn progress(&self) -> Gathered {
        let Some(first) = self.shares.first() else {
            return Gathered::More(1);
        };
        let mut missing: Vec<usize> = self
            .groups()
            .iter()
            .map(|(_, need, have)| need.saturating_sub(*have))
            .collect();
        missing.sort_unstable();
        let need_groups = usize::from(first.group_threshold);
        let mut more: usize = missing.iter().take(need_groups).sum();
        // Groups not seen yet need at least one share each.
        more += need_groups.saturating_sub(missing.len());
        if more == 0 {
            Gathered::Enough
        } else {
            Gathered::More(more)
        }
    }

    /// The secret, from exactly the threshold of shares (extra ones are left out).
    pub fn secret(&self) -> Result<Zeroizing<Vec<u8>>, ShareError> {
        let Some(first) = self.shares.first() else {
            return Err(ShareError::Empty);
        };
        let mut groups = self.groups();
        groups.retain(|(_, need, have)| have >= need);
        groups.truncate(usize::from(first.group_threshold));
        let mut picked: Vec<Share> = Vec::new();
        for (group, need, _) in &groups {
            picked.extend(
                self.shares
                    .iter()
                    .filter(|s| s.group_index == *group)
                    .take(*need)
                    .cloned(),
            );
        }
        if let Gathered::More(more) = self.progress() {
            let have = self.shares.len();
            return Err(ShareError::TooFewShares {
                have,
                need: have + more,
            });
        }
        slip39::combine(&picked, b"")
    }
}
