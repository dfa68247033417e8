//! Factorizations: the strict parser never panics and what it accepts re-joins to text it
//! reads back identically; the checker accepts exactly the prime factorization (unique up to
//! order); extraction and the factoring verifier never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_tasks::*;

fuzz_target!(|data: &[u8]| {
    // First 4 bytes: n (a u32, so trial division stays fast); the rest is the text.
    let Some((head, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let n = u64::from(u32::from_le_bytes(*head));
    let text = String::from_utf8_lossy(rest);
    let _ = extract_factors(&text);
    match parse_factors(&text) {
        Ok(f) => {
            assert!(!f.is_empty() && f.len() <= MAX_FACTORS);
            let joined = f.iter().map(u64::to_string).collect::<Vec<_>>().join("*");
            assert_eq!(parse_factors(&joined).as_ref(), Ok(&f), "{joined}");
            let verdict = check_factor_list(&f, n);
            assert_eq!(check_factors(&text, n), verdict);
            let mut sorted = f.clone();
            sorted.sort_unstable();
            let is_factorization = n >= 2 && sorted == prime_factors(n);
            assert_eq!(
                verdict.is_ok(),
                is_factorization,
                "{text} for {n}: {verdict:?}"
            );
        }
        Err(e) => {
            assert!(check_factors(&text, n).is_err());
            assert!(!e.to_string().is_empty());
        }
    }
    if n >= 4 && !is_prime(n) {
        let task = Factoring::default();
        let p = task.problem(n, 0).expect("composite n");
        let score = task.verify(&p, &text);
        assert!(score == 0.0 || score == 1.0);
        assert_eq!(task.verify(&p, &p.completion), 1.0);
    }
});
