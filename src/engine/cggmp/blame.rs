//! Reading the culprits out of cggmp21's errors: every form it uses to name a faulty
//! party, as plan-independent indices.

/// The parties cggmp21 blames for an abort, 0-based within the protocol.
///
/// cggmp21 0.6 keeps its blame types private; they reach us only through the error's
/// `Debug` form, as `faulty_party: N`, as `parties: [N, ..]`, or as tuples `(N, msg, ..)`
/// in a list. `tests::a_tampered_proof_aborts_and_names_its_sender` checks this against
/// a real abort, so a change in cggmp21's error format fails the tests.
pub(super) fn blame<E: std::fmt::Debug>(e: &E) -> Vec<u16> {
    let text = format!("{e:?}");
    let number_at = |s: &str| -> Option<u16> {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let mut out = Vec::new();
    for marker in ["faulty_party: ", "[(", "), ("] {
        out.extend(text.match_indices(marker).filter_map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let n = number_at(rest)?;
            // A tuple's first field is the party only if more fields follow.
            (m == "faulty_party: " || rest.trim_start_matches(char::is_numeric).starts_with(", "))
                .then_some(n)
        }));
    }
    for (i, m) in text.match_indices("parties: [") {
        let rest = &text[i + m.len()..];
        let list = &rest[..rest.find(']').unwrap_or(0)];
        out.extend(list.split(", ").filter_map(number_at));
    }
    out.sort_unstable();
    out.dedup();
    out
}
