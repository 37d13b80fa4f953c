use super::*;

fn shares_of(mnemonics: &[&str]) -> Result<Vec<Share>, ShareError> {
    mnemonics.iter().map(|m| Share::parse(m)).collect()
}

/// The official vectors of the reference implementation (trezor/python-shamir-mnemonic, vectors.json): each
/// valid one combines, with the passphrase "TREZOR", to its secret; each invalid one is refused.
#[test]
fn the_official_vectors_pass() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/slip39-vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("vectors.json");
    let vectors: Vec<(String, Vec<String>, String, String)> =
        serde_json::from_str(&text).expect("vectors");
    assert_eq!(vectors.len(), 45);
    for (description, mnemonics, secret, _) in vectors {
        let mnemonics: Vec<&str> = mnemonics.iter().map(String::as_str).collect();
        let combined = shares_of(&mnemonics).and_then(|s| combine(&s, b"TREZOR"));
        if secret.is_empty() {
            assert!(combined.is_err(), "{description}: accepted");
        } else {
            let combined = combined.unwrap_or_else(|e| panic!("{description}: {e}"));
            let hex: String = combined.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, secret, "{description}");
            // And the shares are written back word for word.
            for m in &mnemonics {
                assert_eq!(Share::parse(m).expect("share").mnemonic().as_str(), *m);
            }
        }
    }
}

fn random_bytes() -> impl FnMut(&mut [u8]) {
    |buf: &mut [u8]| openssl::rand::rand_bytes(buf).expect("random")
}

#[test]
fn any_threshold_of_shares_restores_and_one_fewer_does_not() {
    let secret: Vec<u8> = (0..32).collect();
    let mut random = random_bytes();
    let split = split(&secret, &Scheme::single(3, 5), b"", 0, &mut random).expect("split");
    let shares = &split[0];
    assert_eq!(shares.len(), 5);
    for a in 0..5 {
        for b in a + 1..5 {
            let two = [shares[a].clone(), shares[b].clone()];
            assert_eq!(
                combine(&two, b""),
                Err(ShareError::TooFewShares { have: 2, need: 3 })
            );
            for c in b + 1..5 {
                let three = [shares[a].clone(), shares[b].clone(), shares[c].clone()];
                assert_eq!(combine(&three, b"").expect("combine").as_slice(), secret);
            }
        }
    }
    for share in shares {
        assert_eq!(share.mnemonic().split(' ').count(), 33);
    }
}

#[test]
fn a_changed_or_swapped_word_and_a_foreign_share_are_named() {
    let secret = [9u8; 32];
    let mut random = random_bytes();
    let one = split(&secret, &Scheme::single(2, 3), b"", 0, &mut random).expect("split");
    let other = split(&secret, &Scheme::single(2, 3), b"", 0, &mut random).expect("split");
    let words: Vec<String> = one[0][0].mnemonic().split(' ').map(String::from).collect();
    let mut changed = words.clone();
    let replacement = if changed[10] == "academic" {
        "acid"
    } else {
        "academic"
    };
    changed[10] = replacement.into();
    assert!(matches!(
        Share::parse(&changed.join(" ")),
        Err(ShareError::Checksum(_))
    ));
    let mut swapped = words.clone();
    let j = (5..30)
        .find(|&j| swapped[j] != swapped[j + 1])
        .expect("two words differ");
    swapped.swap(j, j + 1);
    assert!(matches!(
        Share::parse(&swapped.join(" ")),
        Err(ShareError::Checksum(_))
    ));
    let mut typo = words.clone();
    typo[4] = format!("{}x", typo[4]);
    let err = Share::parse(&typo.join(" ")).expect_err("typo");
    assert_eq!(err.to_string(), "word 5 of the share is not a SLIP-39 word");
    assert!(
        err.hint()
            .expect("hint")
            .contains(&format!("'{}'", words[4]))
    );
    let foreign = [one[0][0].clone(), other[0][1].clone()];
    assert!(matches!(
        combine(&foreign, b""),
        Err(ShareError::OtherSplit(_, "their identifiers")) | Err(ShareError::Digest)
    ));
    let twice = [one[0][0].clone(), one[0][0].clone()];
    assert!(matches!(
        combine(&twice, b""),
        Err(ShareError::Duplicate(_))
    ));
}

#[test]
fn groups_restore_with_enough_of_each() {
    let secret = [0x5au8; 32];
    let mut random = random_bytes();
    let scheme = Scheme {
        group_threshold: 2,
        groups: vec![(2, 3), (1, 1)],
    };
    let split = split(&secret, &scheme, b"", 0, &mut random).expect("split");
    let shares = [
        split[0][0].clone(),
        split[0][2].clone(),
        split[1][0].clone(),
    ];
    assert_eq!(combine(&shares, b"").expect("combine").as_slice(), secret);
    let too_few = [split[0][0].clone(), split[1][0].clone()];
    assert_eq!(
        combine(&too_few, b""),
        Err(ShareError::TooFewShares { have: 1, need: 2 })
    );
}

#[test]
fn a_word_of_any_characters_is_refused_without_a_panic() {
    // Found by the slip39_share fuzz target: "a" and U+06C5 (two bytes) cut in the middle of a character.
    let err = Share::parse("a\u{6c5}\u{6c5}a\u{6c5}v").expect_err("not a word");
    assert!(matches!(err, ShareError::UnknownWord { position: 1, .. }));
}

#[test]
fn the_word_list_is_sorted_and_told_apart_by_four_letters() {
    let list = words::list();
    assert_eq!(list.len(), 1024);
    assert!(list.windows(2).all(|w| w[0] < w[1]));
    let mut prefixes: Vec<&str> = list.iter().map(|w| &w[..4.min(w.len())]).collect();
    prefixes.dedup();
    assert_eq!(prefixes.len(), 1024);
}

fn python(script: &str, input: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (scripts/test.sh installs it and shamir-mnemonic)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// certkit's shares combine in Trezor's reference implementation (`shamir-mnemonic`), and the reference's
/// shares in certkit, to the same secret.
#[test]
fn shares_interoperate_with_the_reference_implementation() {
    let mut secret = [0u8; 32];
    openssl::rand::rand_bytes(&mut secret).expect("random");
    let mut random = random_bytes();
    let ours = split(&secret, &Scheme::single(3, 5), b"", 1, &mut random).expect("split");
    let picked: Vec<String> = [4, 0, 2]
        .iter()
        .map(|&i| ours[0][i].mnemonic().to_string())
        .collect();
    let theirs = python(
        "import sys, shamir_mnemonic as s\n\
         print(s.combine_mnemonics([l.strip() for l in sys.stdin if l.strip()]).hex())",
        &picked.join("\n"),
    );
    assert_eq!(theirs.trim(), hex(&secret));

    let made = python(
        "import sys, shamir_mnemonic as s\n\
         secret = bytes.fromhex(sys.stdin.read().strip())\n\
         for share in s.generate_mnemonics(1, [(3, 5)], secret)[0]: print(share)",
        &hex(&secret),
    );
    let shares: Vec<Share> = made
        .lines()
        .skip(1)
        .take(3)
        .map(|l| Share::parse(l).expect("a reference share"))
        .collect();
    assert_eq!(combine(&shares, b"").expect("combine").as_slice(), secret);
}
