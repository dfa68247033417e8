//! The interpreter on arbitrary programs and inputs: never panics, always stops within its
//! fuel, memory and depth limits, and is deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_tasks::{run_with_usage, Limits, Program, Value};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // "INPUT;PROGRAM": an input value, then the program body.
    let (input, src) = text.split_once(';').unwrap_or(("[1,2,3]", &text));
    let input = Value::parse(input).unwrap_or(Value::Int(3));
    let Ok(program) = Program::parse(src) else { return };
    let limits = Limits { fuel: 5_000, max_cells: 20_000, max_depth: 128 };
    let (first, usage) = run_with_usage(&program, &input, &limits);
    assert!(usage.steps <= limits.fuel, "{usage:?}");
    assert!(usage.cells <= limits.max_cells, "{usage:?}");
    assert!(usage.depth <= limits.max_depth, "{usage:?}");
    let (second, again) = run_with_usage(&program, &input, &limits);
    assert_eq!(first, second);
    assert_eq!(usage, again);
});
