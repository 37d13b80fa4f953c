//! The SLIP-39 word list (1024 words, each told apart by its first four letters) and the RS1024 checksum
//! over the words' indices.

use std::sync::OnceLock;

const LIST: &str = include_str!("wordlist.txt");

/// The 1024 words, in order.
pub fn list() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        LIST.lines()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect()
    })
}

/// The index of `word` (lowercase), if it is in the list.
pub fn index(word: &str) -> Option<u16> {
    list().binary_search(&word).ok().map(|i| i as u16)
}

/// The word at `index` (< 1024).
pub fn word(index: u16) -> &'static str {
    list()[usize::from(index) & 1023]
}

/// The word of the list closest to `typed`: the one with its first four letters, else the nearest within two
/// edits.
pub fn nearest(typed: &str) -> Option<&'static str> {
    // Four characters, not bytes: a mistyped word may be anything (found by the slip39_share fuzz target).
    let prefix: String = typed.chars().take(4).collect();
    if prefix.chars().count() == 4
        && let Some(w) = list().iter().find(|w| w.starts_with(&prefix))
    {
        return Some(w);
    }
    list()
        .iter()
        .map(|w| (distance(typed, w), *w))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, w)| w)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            previous = here;
        }
    }
    row[b.len()]
}

fn polymod(values: impl Iterator<Item = u32>) -> u32 {
    const GEN: [u32; 10] = [
        0xE0E040, 0x1C1C080, 0x3838100, 0x7070200, 0xE0E0009, 0x1C0C2412, 0x38086C24, 0x3090FC48,
        0x21B1F890, 0x3F3F120,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let b = chk >> 20;
        chk = ((chk & 0xFFFFF) << 10) ^ v;
        for (i, g) in GEN.iter().enumerate() {
            if (b >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn customization(extendable: bool) -> &'static [u8] {
    if extendable {
        b"shamir_extendable"
    } else {
        b"shamir"
    }
}

/// The three checksum words' indices for `data`.
pub fn checksum(data: &[u16], extendable: bool) -> [u16; 3] {
    let values = customization(extendable)
        .iter()
        .map(|b| u32::from(*b))
        .chain(data.iter().map(|v| u32::from(*v)))
        .chain([0, 0, 0]);
    let p = polymod(values) ^ 1;
    [
        ((p >> 20) & 1023) as u16,
        ((p >> 10) & 1023) as u16,
        (p & 1023) as u16,
    ]
}

/// Whether `data` (with its checksum words) checks out.
pub fn verify(data: &[u16], extendable: bool) -> bool {
    let values = customization(extendable)
        .iter()
        .map(|b| u32::from(*b))
        .chain(data.iter().map(|v| u32::from(*v)));
    polymod(values) == 1
}
