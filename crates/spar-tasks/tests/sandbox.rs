//! The program sandbox under attack: adversarial programs (deep recursion, huge allocations,
//! long loops, huge literals) and pathological source texts, each held to the interpreter's
//! bounds. For every run, whatever the program and input:
//!
//! - steps ≤ `fuel`, cells ≤ `max_cells`, depth ≤ min(`max_depth`, [`HARD_MAX_DEPTH`]);
//! - the heap grows by at most 24 bytes per cell of `max_cells` plus 4 KiB during the run
//!   (each live list's capacity is at most twice the cells charged for it, and a growing
//!   list briefly holds its old buffer too: 3 × 8 bytes), measured by a counting allocator;
//! - the host stack holds at [`HARD_MAX_DEPTH`] on a 2 MiB thread (a test thread's size);
//! - it ends, with a value or an error, in well under a second at these limits;
//! - parsing any text of up to 4 KB returns, without panicking, within the source limit.
//!
//! `worst_time_and_memory_seen` prints the worst cases over a fixed catalogue at the default
//! limits and at large ones (RELIABILITY.md records them).

use proptest::prelude::*;
use spar_tasks::{run_with_usage, Limits, Program, RunError, Usage, Value, HARD_MAX_DEPTH};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

/// Counts this thread's live heap bytes and their peak (other threads' tests do not count).
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(delta: isize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get() + delta;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call forwards to the system allocator unchanged; the bookkeeping only
// touches const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a new block before the old one goes: a realloc that moves holds both.
        add(new_size as isize);
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        add(-(layout.size() as isize));
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// What one run cost.
#[derive(Debug, Clone, Copy)]
struct Cost {
    usage: Usage,
    heap_growth: usize,
    time: Duration,
}

/// Runs `program` on `input`, checks every bound, and returns the result and the cost.
fn attack(program: &Program, input: &Value, lim: &Limits) -> (Result<Value, RunError>, Cost) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let t0 = Instant::now();
    let (out, usage) = run_with_usage(program, input, lim);
    let time = t0.elapsed();
    let heap_growth = (PEAK.with(Cell::get) - before).max(0) as usize;
    let what = format!("{program} on {}", short(input));
    assert!(usage.steps <= lim.fuel, "{what}: {usage:?}");
    assert!(usage.cells <= lim.max_cells, "{what}: {usage:?}");
    assert!(
        usage.depth <= lim.max_depth.min(HARD_MAX_DEPTH),
        "{what}: {usage:?}"
    );
    let heap_bound = 24 * lim.max_cells as usize + 4096;
    assert!(
        heap_growth <= heap_bound,
        "{what}: heap grew {heap_growth} > {heap_bound}"
    );
    assert!(time < Duration::from_secs(2), "{what}: {time:?}");
    let cost = Cost {
        usage,
        heap_growth,
        time,
    };
    (out, cost)
}

fn short(v: &Value) -> String {
    match v {
        Value::List(items) if items.len() > 8 => format!("a list of {}", items.len()),
        v => v.to_string(),
    }
}

fn p(src: &str) -> Program {
    Program::parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}"))
}

/// Adversarial program texts built from `k` (a size) and `c` (a constant).
fn adversarial(kind: usize, k: u64, c: i64) -> String {
    match kind % 16 {
        // Deep recursion.
        0 => "f(x)".into(),
        1 => format!("1+f(x+{})", c.unsigned_abs() % 1000),
        2 => "f(f(x))".into(),
        3 => format!("if x<{} then 0 else 1+f(x-1)", c % 100),
        // Exponential recursion and long loops.
        4 => "if x<2 then x else f(x-1)+f(x-2)".into(),
        5 => format!("sum(range({k}))+f(x)"),
        6 => format!("len(sort(range({k})))+len(sort(rev(range({k}))))+f(x)"),
        // Huge allocations.
        7 => format!("range({k})"),
        8 => "f(x++x)".into(),
        9 => format!("len(range({k})++range({k})++range({k}))+f(x)"),
        10 => "f(tail(x++x++x))".into(),
        11 => format!(
            "[{}]",
            vec!["len(range(x))"; (k % 40) as usize + 1].join(",")
        ),
        // Huge literals and overflow.
        12 => format!("{}+{c}", i64::MAX),
        13 => format!("-{}-1-{}", i64::MAX, c.unsigned_abs() % 10),
        14 => format!("{}*x*x*x", i64::MAX / 3),
        // A list literal as long as the source limit allows.
        _ => format!("sum([{}])", vec![i64::MAX.to_string(); 49].join(",")),
    }
}

fn input_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        (0i64..50).prop_map(Value::Int),
        proptest::collection::vec(any::<i64>(), 0..64).prop_map(Value::List),
        (0usize..20_000).prop_map(|n| Value::List((0..n as i64).collect())),
    ]
}

fn limits_strategy() -> impl Strategy<Value = Limits> {
    (1u64..200_000, 1u64..200_000, 1usize..4096).prop_map(|(fuel, max_cells, max_depth)| Limits {
        fuel,
        max_cells,
        max_depth,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every adversarial program ends within its bounds (checked in `attack`), whatever the
    /// limits and input; combining two of them changes nothing.
    #[test]
    fn adversarial_programs_end_within_fuel_memory_and_depth(
        kind in 0usize..16,
        other in 0usize..16,
        k in prop_oneof![0u64..100, 0u64..10_000_000_000],
        c in any::<i64>(),
        input in input_strategy(),
        lim in limits_strategy(),
    ) {
        let src = adversarial(kind, k, c);
        let _ = attack(&p(&src), &input, &lim);
        let both = format!("({src})+({})", adversarial(other, k / 2, c / 2));
        if let Ok(prog) = Program::parse(&both) {
            let _ = attack(&prog, &input, &lim);
        }
    }

    /// Pathological sources: nesting, minus chains, long tokens, huge digits, any bytes.
    #[test]
    fn pathological_sources_parse_or_fail_quickly(
        open in 0usize..300,
        minus in 0usize..1200,
        digits in 0usize..60,
        junk in ".{0,400}",
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let texts = [
            format!("{}x{}", "(".repeat(open), ")".repeat(open)),
            format!("{}x", "-".repeat(minus)),
            format!("{}x", "- ".repeat(minus / 2)),
            "9".repeat(digits),
            format!("[{}]", "1,".repeat(minus) ),
            format!("{}(x)", "f".repeat(minus.max(1))),
            junk,
            String::from_utf8_lossy(&bytes).into_owned(),
        ];
        for text in &texts {
            let t0 = Instant::now();
            let parsed = Program::parse(text);
            prop_assert!(t0.elapsed() < Duration::from_millis(500), "{:?}", t0.elapsed());
            if let Ok(prog) = parsed {
                prop_assert!(text.len() <= spar_tasks::MAX_SOURCE_LEN);
                let _ = attack(&prog, &Value::Int(3), &Limits::default());
            }
        }
    }
}

/// Recursion to the hard cap on a thread with a test thread's 2 MiB stack.
#[test]
fn the_hard_depth_cap_fits_a_two_mebibyte_stack() {
    let lim = Limits {
        fuel: u64::MAX,
        max_cells: 1 << 20,
        max_depth: usize::MAX,
    };
    let depths = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut depths = Vec::new();
            for src in [
                "f(x)",
                "1+f(x+1)",
                "f(f(x))",
                "len([f(x)])",
                "if x<0 then 0 else -(sum(range(1))+f(x+1))",
            ] {
                let (out, cost) = attack(&p(src), &Value::Int(0), &lim);
                assert_eq!(out, Err(RunError::DepthExceeded), "{src}");
                depths.push(cost.usage.depth);
            }
            depths
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert!(depths.iter().all(|&d| d == HARD_MAX_DEPTH), "{depths:?}");
}

/// The worst time and heap over a fixed catalogue: every adversarial kind at sizes from 10
/// to 10¹⁰, on small and 20,000-element inputs, at the default limits and at limits 100
/// times larger. Prints the worst cases (with `--nocapture`).
#[test]
fn worst_time_and_memory_seen() {
    let large = Limits {
        fuel: 1_000_000,
        max_cells: 10_000_000,
        max_depth: HARD_MAX_DEPTH,
    };
    let inputs = [
        Value::Int(25),
        Value::List(vec![1]),
        Value::List((0..20_000).collect()),
    ];
    for (name, lim) in [("default", Limits::default()), ("large", large)] {
        let mut worst_time = (Duration::ZERO, String::new());
        let mut worst_heap = (0usize, String::new());
        let mut limit_errors = 0;
        let mut runs = 0;
        for kind in 0..16 {
            for k in [10u64, 1_000, 100_000, 10_000_000_000] {
                for input in &inputs {
                    let src = adversarial(kind, k, 7);
                    let (out, cost) = attack(&p(&src), input, &lim);
                    runs += 1;
                    limit_errors += usize::from(out.is_err_and(RunError::is_limit));
                    let what = format!("{src} on {}", short(input));
                    if cost.time > worst_time.0 {
                        worst_time = (cost.time, what.clone());
                    }
                    if cost.heap_growth > worst_heap.0 {
                        worst_heap = (cost.heap_growth, what);
                    }
                }
            }
        }
        println!(
            "{name} limits {lim:?}: {runs} runs, {limit_errors} stopped by a limit; \
             worst time {:?} ({}); worst heap growth {} bytes ({})",
            worst_time.0, worst_time.1, worst_heap.0, worst_heap.1
        );
        assert!(limit_errors > runs / 3, "the catalogue reaches the limits");
    }
}
