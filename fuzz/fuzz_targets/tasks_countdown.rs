//! Countdown expressions: parsing and exact checking never panic, canonical text
//! re-parses to the same tree, and a checked expression really uses available numbers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_tasks::{check_countdown, CdExpr, CountdownError};

fuzz_target!(|data: &[u8]| {
    // First byte: how many numbers; then one byte each; the rest is the expression.
    let Some((&n, rest)) = data.split_first() else { return };
    let n = (n % 7) as usize;
    if rest.len() < n {
        return;
    }
    let numbers: Vec<i64> = rest[..n].iter().map(|&b| i64::from(b)).collect();
    let expr = String::from_utf8_lossy(&rest[n..]);
    if let Ok(e) = CdExpr::parse(&expr) {
        let text = e.to_string();
        assert_eq!(CdExpr::parse(&text).as_ref(), Ok(&e), "{text}");
        if let Ok(v) = e.eval() {
            if let Some(t) = v.to_i64() {
                match check_countdown(&expr, &numbers, t) {
                    Ok(()) | Err(CountdownError::NumberNotAvailable(_)) => {}
                    Err(other) => panic!("{expr}: evaluates to {t} but check says {other:?}"),
                }
            }
        }
    }
    let _ = check_countdown(&expr, &numbers, 24);
});
