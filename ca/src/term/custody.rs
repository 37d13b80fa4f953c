//! Shares on the terminal: shown to one custodian at a time (the screen cleared in between, two words typed
//! back), and asked for one at a time when restoring (each checked as it arrives). Also reading a share from a
//! `--share` source. Shares go to the terminal only, never to stdout, a log or an error.

use std::io::{IsTerminal, Write};

use zeroize::Zeroizing;

use crate::custody::{Gathered, SharePile};
use crate::error::{Error, Result};
use crate::secret::{self, SecretReader, SecretSource};
use crate::slip39::Share;

const CLEAR: &str = "\x1b[2J\x1b[3J\x1b[H";

/// Whether shares can be shown or asked for here.
pub fn has_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn term_error(e: impl std::fmt::Display) -> Error {
    Error::Secret(format!("the terminal failed: {e}"))
}

/// Shows each share to its custodian (named as given, e.g. "Custodian 2 of 5") in turn: the words in numbered
/// rows, then (after Enter, with the screen cleared) two of them asked back, until both are right.
pub fn show_shares(shares: &[(String, Share)], what: &str) -> Result<()> {
    let theme = dialoguer::theme::SimpleTheme;
    let mut tty = std::io::stderr();
    for (custodian, share) in shares {
        let words = share.mnemonic();
        let list: Vec<&str> = words.split(' ').collect();
        dialoguer::Input::<String>::with_theme(&theme)
            .with_prompt(format!(
                "{custodian}: make sure nobody else can see the screen, then press Enter"
            ))
            .allow_empty(true)
            .interact_text()
            .map_err(term_error)?;
        loop {
            write!(tty, "{CLEAR}").map_err(term_error)?;
            writeln!(
                tty,
                "{custodian}: your share of {what}. Write down all {} words, in order:\n",
                list.len()
            )
            .map_err(term_error)?;
            for (row, chunk) in list.chunks(4).enumerate() {
                let line: Vec<String> = chunk
                    .iter()
                    .enumerate()
                    .map(|(j, w)| format!("{:>2}. {w:<10}", row * 4 + j + 1))
                    .collect();
                writeln!(tty, "  {}", line.join("  ")).map_err(term_error)?;
            }
            writeln!(tty).map_err(term_error)?;
            dialoguer::Input::<String>::with_theme(&theme)
                .with_prompt("Press Enter when it is written down (the screen is cleared)")
                .allow_empty(true)
                .interact_text()
                .map_err(term_error)?;
            write!(tty, "{CLEAR}").map_err(term_error)?;
            let mut pick = [0u8; 2];
            openssl::rand::rand_bytes(&mut pick)?;
            let a = usize::from(pick[0]) % list.len();
            let b = (a + 1 + usize::from(pick[1]) % (list.len() - 1)) % list.len();
            let (a, b) = (a.min(b), a.max(b));
            let mut right = true;
            for at in [a, b] {
                let typed = Zeroizing::new(
                    dialoguer::Input::<String>::with_theme(&theme)
                        .with_prompt(format!("{custodian}: word {} of your share", at + 1))
                        .interact_text()
                        .map_err(term_error)?,
                );
                right &= typed.trim().eq_ignore_ascii_case(list[at]);
            }
            if right {
                break;
            }
            // Left on the screen until the custodian has read it: the share is shown again only then.
            dialoguer::Input::<String>::with_theme(&theme)
                .with_prompt("That is not what the share says; press Enter and it is shown again")
                .allow_empty(true)
                .interact_text()
                .map_err(term_error)?;
        }
        write!(tty, "{CLEAR}").map_err(term_error)?;
    }
    Ok(())
}

/// Asks for shares on the terminal until `pile` has enough, checking each as it arrives.
pub fn ask_shares(pile: &mut SharePile) -> Result<()> {
    let theme = dialoguer::theme::SimpleTheme;
    let mut tty = std::io::stderr();
    loop {
        let more = match pile.progress() {
            Gathered::Enough if !pile.is_empty() => return Ok(()),
            Gathered::Enough => 1,
            Gathered::More(n) => n,
        };
        let typed = Zeroizing::new(
            dialoguer::Input::<String>::with_theme(&theme)
                .with_prompt(format!(
                    "Share {} ({more} more needed; its words separated by spaces)",
                    pile.len() + 1
                ))
                .interact_text()
                .map_err(term_error)?,
        );
        write!(tty, "{CLEAR}").map_err(term_error)?;
        match pile.add(&typed) {
            Ok(_) => writeln!(tty, "Share {} accepted.", pile.len()).map_err(term_error)?,
            Err(e) => {
                let hint = e.hint().map(|h| format!(" ({h})")).unwrap_or_default();
                writeln!(tty, "Not taken: {e}{hint}. Try again.").map_err(term_error)?;
            }
        }
    }
}

/// Reads one share from `source`: a share file (its line of words, whatever header it has), or the next line
/// of a descriptor or stdin, or an environment variable's value.
pub fn read_share(reader: &mut SecretReader, source: &SecretSource) -> Result<Zeroizing<String>> {
    if let SecretSource::File(path) = source {
        let bytes = Zeroizing::new(crate::files::read(path)?);
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::malformed(path, "is not a text file holding a SLIP-39 share"))?;
        // The share is the one line of 20 or more words of letters only (a share file's header lines hold
        // digits, colons or punctuation).
        let words: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| {
                l.split_whitespace().count() >= 20
                    && l.split_whitespace()
                        .all(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
            })
            .collect();
        return match words.as_slice() {
            [one] => Ok(Zeroizing::new(one.to_string())),
            [] => Err(Error::malformed(
                path,
                "holds no line of 20 or more words: no SLIP-39 share",
            )),
            _ => Err(Error::malformed(
                path,
                "holds more than one share; give each with its own --share",
            )),
        };
    }
    let secret = reader.read(source, secret::SHARE)?;
    Ok(Zeroizing::new(secret.expose().to_string()))
}
