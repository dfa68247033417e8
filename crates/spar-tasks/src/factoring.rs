//! Factoring small composites: checking multiplies, solving searches.
//!
//! Compact prompt `"factor 221="` → completion `"13*17"`. The answer is the **complete prime
//! factorization** of `n`: prime factors separated by `*`, repeated as often as they divide
//! `n` (`"factor 12="` → `"2*2*3"`). The canonical form lists them ascending; the verifier
//! accepts any order, and nothing else: every factor must be prime (so `2*6` for 12 is
//! wrong even though it multiplies back) and their product must be exactly `n`. At the
//! two-prime levels this is the same as "any split into factors > 1 and < n".
//!
//! The parser ([`parse_factors`]) is strict: decimal numbers without leading zeros joined
//! by `*`, spaces allowed around the `*`; it never panics and reports where it failed.
//! Primality is decided exactly (deterministic Miller–Rabin for every `u64`).

use crate::answer::answer_region;
use crate::arithmetic::pick_other;
use crate::rng::{index, shuffle, uniform};
use crate::task::{check_level, Format, Instance, Problem, Task};
use crate::{Answer, TaskError};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use rand_core::RngCore;

/// Most factors [`parse_factors`] reads (2^64 has at most 64 prime factors).
pub const MAX_FACTORS: usize = 64;
/// Largest `n` a [`Factoring`] problem may have (trial division stays below 10^6 steps).
pub const MAX_FACTORING_N: u64 = 1_000_000_000_000;
/// Most digits in one number; longer runs are rejected rather than overflowing.
const MAX_DIGITS: usize = 19;

/// Why a text is not the prime factorization of `n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorError {
    /// Not a `*`-separated list of numbers: the byte offset and what was expected there.
    Parse {
        /// Byte offset of the failure.
        at: usize,
        /// What the parser wanted at `at`.
        expected: &'static str,
    },
    /// More than [`MAX_FACTORS`] factors.
    TooManyFactors,
    /// A number too long to be a `u64` (the byte offset where it starts).
    NumberTooLarge(usize),
    /// A factor 0 or 1.
    TrivialFactor(u64),
    /// The factors do not multiply to `n` (or their product overflows).
    WrongProduct,
    /// A factor that is not prime (the factorization is incomplete).
    NotPrime(u64),
}

impl fmt::Display for FactorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FactorError::Parse { at, expected } => {
                write!(f, "parse error at byte {at}: expected {expected}")
            }
            FactorError::TooManyFactors => write!(f, "more than {MAX_FACTORS} factors"),
            FactorError::NumberTooLarge(at) => write!(f, "number at byte {at} is too large"),
            FactorError::TrivialFactor(v) => write!(f, "factor {v} is not greater than 1"),
            FactorError::WrongProduct => write!(f, "the factors do not multiply to n"),
            FactorError::NotPrime(v) => write!(f, "factor {v} is not prime"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FactorError {}

/// Parse `"13*17"` (or `"13 * 17"`) into its factors, in the order written.
///
/// Grammar: `number ('*' number)*`, numbers are ASCII digits without leading zeros (`0`
/// alone is a number), ASCII spaces allowed around each `*` and at both ends. Never
/// panics.
///
/// ```
/// use spar_tasks::{parse_factors, FactorError};
/// assert_eq!(parse_factors("17*13"), Ok(vec![17, 13]));
/// assert_eq!(parse_factors(" 2 * 2*3 "), Ok(vec![2, 2, 3]));
/// assert_eq!(parse_factors("13*"), Err(FactorError::Parse { at: 3, expected: "a number" }));
/// assert!(parse_factors("013*17").is_err());
/// ```
pub fn parse_factors(text: &str) -> Result<Vec<u64>, FactorError> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let skip_spaces = |pos: &mut usize| {
        while *pos < bytes.len() && bytes[*pos] == b' ' {
            *pos += 1;
        }
    };
    let mut factors = Vec::new();
    loop {
        skip_spaces(&mut pos);
        let start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let digits = &bytes[start..pos];
        if digits.is_empty() {
            return Err(FactorError::Parse {
                at: start,
                expected: "a number",
            });
        }
        if digits.len() > 1 && digits[0] == b'0' {
            return Err(FactorError::Parse {
                at: start,
                expected: "a number without leading zeros",
            });
        }
        let value = parse_u64(digits).ok_or(FactorError::NumberTooLarge(start))?;
        if factors.len() == MAX_FACTORS {
            return Err(FactorError::TooManyFactors);
        }
        factors.push(value);
        skip_spaces(&mut pos);
        match bytes.get(pos) {
            None => return Ok(factors),
            Some(b'*') => pos += 1,
            Some(_) => {
                return Err(FactorError::Parse {
                    at: pos,
                    expected: "`*` or the end",
                })
            }
        }
    }
}

/// ASCII digits as a `u64`; `None` when longer than 19 digits or overflowing.
pub(crate) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > MAX_DIGITS + 1 {
        return None;
    }
    digits.iter().try_fold(0u64, |v, &d| {
        v.checked_mul(10)?
            .checked_add(u64::from(d.wrapping_sub(b'0')))
    })
}

/// Check that `factors` is the complete prime factorization of `n` (any order).
pub fn check_factor_list(factors: &[u64], n: u64) -> Result<(), FactorError> {
    if let Some(&f) = factors.iter().find(|&&f| f < 2) {
        return Err(FactorError::TrivialFactor(f));
    }
    let product = factors
        .iter()
        .try_fold(1u64, |p, &f| p.checked_mul(f))
        .ok_or(FactorError::WrongProduct)?;
    if product != n {
        return Err(FactorError::WrongProduct);
    }
    match factors.iter().find(|&&f| !is_prime(f)) {
        Some(&f) => Err(FactorError::NotPrime(f)),
        None => Ok(()),
    }
}

/// Parse `text` strictly ([`parse_factors`]) and check it is the complete prime
/// factorization of `n`, in any order.
///
/// ```
/// use spar_tasks::{check_factors, FactorError};
/// assert_eq!(check_factors("13*17", 221), Ok(()));
/// assert_eq!(check_factors("17*13", 221), Ok(()));
/// assert_eq!(check_factors("2*6", 12), Err(FactorError::NotPrime(6)));
/// assert_eq!(check_factors("11*19", 221), Err(FactorError::WrongProduct));
/// assert_eq!(check_factors("1*221", 221), Err(FactorError::TrivialFactor(1)));
/// ```
pub fn check_factors(text: &str, n: u64) -> Result<(), FactorError> {
    check_factor_list(&parse_factors(text)?, n)
}

/// `a * b mod m` without overflow.
fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(m)) as u64
}

fn pow_mod(mut base: u64, mut exp: u64, m: u64) -> u64 {
    let mut acc = 1 % m;
    base %= m;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul_mod(acc, base, m);
        }
        base = mul_mod(base, base, m);
        exp >>= 1;
    }
    acc
}

/// Whether `n` is prime: exact for every `u64` (Miller–Rabin with the first twelve prime
/// bases, which is deterministic below 3.3·10^24).
pub fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for p in BASES {
        if n % p == 0 {
            return n == p;
        }
    }
    let (mut d, mut s) = (n - 1, 0);
    while d % 2 == 0 {
        d /= 2;
        s += 1;
    }
    'bases: for a in BASES {
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul_mod(x, x, n);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// The prime factors of `n ≥ 2`, ascending with multiplicity, by trial division (meant for
/// `n ≤` [`MAX_FACTORING_N`]; empty for `n < 2`).
pub fn prime_factors(mut n: u64) -> Vec<u64> {
    let mut out = Vec::new();
    if n < 2 {
        return out;
    }
    let mut p = 2u64;
    while p.saturating_mul(p) <= n {
        while n % p == 0 {
            out.push(p);
            n /= p;
        }
        p += if p == 2 { 1 } else { 2 };
    }
    if n > 1 {
        out.push(n);
    }
    out
}

/// Factors joined by `*` as written (no sorting).
pub(crate) fn join_factors(factors: &[u64]) -> String {
    let parts: Vec<String> = factors.iter().map(|f| format!("{f}")).collect();
    parts.join("*")
}

/// Pull a factorization out of a completion, as written (not sorted, not checked).
///
/// The answer region (after the last answer marker, if any; see [`extract_int`](crate::extract_int))
/// is cut at every character other than digits, `*` and spaces; of the pieces that parse
/// ([`parse_factors`]), the last one containing `*` is taken (the first one after a marker),
/// else the last bare number.
///
/// ```
/// use spar_tasks::extract_factors;
/// assert_eq!(extract_factors("221=13*17"), Some(vec![13, 17]));
/// assert_eq!(extract_factors("answer: 17 * 13, I think"), Some(vec![17, 13]));
/// assert_eq!(extract_factors("no idea"), None);
/// ```
pub fn extract_factors(completion: &str) -> Option<Vec<u64>> {
    let (region, marked) = answer_region(completion);
    let mut parsed: Vec<Vec<u64>> = Vec::new();
    for piece in region.split(|c: char| !(c.is_ascii_digit() || c == '*' || c == ' ')) {
        if piece.trim().is_empty() {
            continue;
        }
        if let Ok(f) = parse_factors(piece) {
            parsed.push(f);
        }
    }
    let product = |f: &Vec<u64>| f.len() > 1;
    let pick = if marked {
        parsed
            .iter()
            .position(product)
            .or(if parsed.is_empty() { None } else { Some(0) })
    } else {
        parsed
            .iter()
            .rposition(product)
            .or(parsed.len().checked_sub(1))
    };
    pick.map(|i| parsed.swap_remove(i))
}

/// One level: how many prime factors, the range of `n`, the smallest factor allowed.
#[derive(Clone, Copy)]
struct Level {
    primes: usize,
    lo: u64,
    hi: u64,
    min_prime: u64,
}

/// Levels, easiest first: two primes below 100, 1,000 and 10,000; three primes below
/// 1,000; two primes ≥ 7 below 100,000; two primes ≥ 101 below 1,000,000.
const LEVELS: [Level; 6] = [
    Level {
        primes: 2,
        lo: 4,
        hi: 99,
        min_prime: 2,
    },
    Level {
        primes: 2,
        lo: 100,
        hi: 999,
        min_prime: 2,
    },
    Level {
        primes: 3,
        lo: 100,
        hi: 999,
        min_prime: 2,
    },
    Level {
        primes: 2,
        lo: 1000,
        hi: 9999,
        min_prime: 2,
    },
    Level {
        primes: 2,
        lo: 10_000,
        hi: 99_999,
        min_prime: 7,
    },
    Level {
        primes: 2,
        lo: 100_000,
        hi: 999_999,
        min_prime: 101,
    },
];

/// Factor a small composite into primes.
///
/// | level | `n` | prime factors |
/// |---|---|---|
/// | 0 | 4–99 | 2 |
/// | 1 | 100–999 | 2 |
/// | 2 | 100–999 | 3 (with repeats, e.g. `2*2*31`) |
/// | 3 | 1,000–9,999 | 2 |
/// | 4 | 10,000–99,999 | 2, both ≥ 7 |
/// | 5 | 100,000–999,999 | 2, both ≥ 101 |
///
/// `n` is uniform over the composites of its level.
///
/// ```
/// use spar_tasks::{Factoring, Task};
/// let task = Factoring::default();
/// let p = task.problem(221, 1).unwrap();
/// assert_eq!((p.prompt.as_str(), p.completion.as_str()), ("factor 221=", "13*17"));
/// assert_eq!(task.verify(&p, "17*13"), 1.0);
/// assert_eq!(task.verify(&p, "11*20"), 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Factoring {
    /// Prompt format (`StepByStep` is treated as `Compact`).
    pub format: Format,
}

impl Factoring {
    /// The problem "factor `n`" (`n` composite, at most [`MAX_FACTORING_N`]).
    pub fn problem(&self, n: u64, level: usize) -> Result<Problem, TaskError> {
        if !(4..=MAX_FACTORING_N).contains(&n) || is_prime(n) {
            return Err(TaskError::BadConfig(
                "factoring needs a composite n in 4..=10^12",
            ));
        }
        let text = join_factors(&prime_factors(n));
        Ok(Problem {
            prompt: self.variants(n).swap_remove(0),
            answer: Answer::Text(text.clone()),
            completion: text,
            level,
            format: self.format,
            instance: Instance::Factoring { n },
        })
    }

    fn variants(&self, n: u64) -> Vec<String> {
        match self.format {
            Format::Compact | Format::StepByStep => alloc::vec![
                format!("factor {n}="),
                format!("factor {n}:"),
                format!("factors of {n}:"),
                format!("{n} factored:"),
            ],
            Format::Words => alloc::vec![
                format!("Write {n} as a product of primes."),
                format!("Factor {n} into primes."),
                format!("What are the prime factors of {n}? Write them as a product."),
            ],
        }
    }
}

impl Task for Factoring {
    fn name(&self) -> &'static str {
        "factoring"
    }

    fn num_levels(&self) -> usize {
        LEVELS.len()
    }

    fn generate(&self, level: usize, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        check_level(level, self.num_levels())?;
        let l = LEVELS[level];
        // Rejection sampling keeps n uniform over the level's composites; every level
        // accepts at least ~5 % of draws.
        for _ in 0..10_000 {
            let n = uniform(rng, l.lo as i64, l.hi as i64) as u64;
            let f = prime_factors(n);
            if f.len() == l.primes && f[0] >= l.min_prime {
                return self.problem(n, level);
            }
        }
        Err(TaskError::GenerationFailed)
    }

    /// The factors as written, sorted ascending and joined by `*` (so `17*13` and `13*17`
    /// vote together).
    fn extract_answer(&self, completion: &str) -> Option<Answer> {
        let mut f = extract_factors(completion)?;
        f.sort_unstable();
        Some(Answer::Text(join_factors(&f)))
    }

    fn check(&self, problem: &Problem, answer: &Answer) -> bool {
        match (&problem.instance, answer) {
            (Instance::Factoring { n }, Answer::Text(t)) => check_factors(t, *n).is_ok(),
            _ => false,
        }
    }

    fn paraphrase(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let Instance::Factoring { n } = problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        let prompt = pick_other(self.variants(n), &problem.prompt, rng);
        Ok(Problem {
            prompt,
            ..problem.clone()
        })
    }
}

/// The nearest prime to `p` other than `p`, below or above (at random), if one exists ≥ 2.
fn neighbour_prime(p: u64, rng: &mut dyn RngCore) -> u64 {
    let up = || (p + 1..).find(|&q| is_prime(q)).unwrap_or(p + 1);
    let down = (2..p).rev().find(|&q| is_prime(q));
    match down {
        Some(q) if index(rng, 2) == 0 => q,
        _ => up(),
    }
}

/// A plausible wrong factorization of `n` (the verifier rejects it): one prime replaced by
/// a neighbouring prime; two factors merged into a composite (when there are three or more);
/// the factorization of `n ± 1` or `n ± 2`; or a factor off by one.
pub(crate) fn wrong_factorization(n: u64, rng: &mut dyn RngCore) -> String {
    let factors = prime_factors(n);
    for _ in 0..32 {
        let mut f = factors.clone();
        match index(rng, 4) {
            0 => {
                let i = index(rng, f.len());
                f[i] = neighbour_prime(f[i], rng);
            }
            1 if f.len() >= 3 => {
                let i = index(rng, f.len() - 1);
                let merged = f[i] * f.remove(i + 1);
                f[i] = merged;
            }
            2 => {
                let m = match index(rng, 4) {
                    0 => n - 2,
                    1 => n - 1,
                    2 => n + 1,
                    _ => n + 2,
                };
                f = prime_factors(m);
                if f.len() < 2 {
                    continue;
                }
            }
            _ => {
                let i = index(rng, f.len());
                f[i] = if index(rng, 2) == 0 {
                    f[i] + 1
                } else {
                    f[i] - 1
                };
            }
        }
        shuffle_if(rng, &mut f);
        if check_factor_list(&f, n).is_err() && f.iter().all(|&x| x >= 2) {
            return join_factors(&f);
        }
    }
    // Unreachable in practice; still a near miss.
    join_factors(&[factors[0], n / factors[0] + 1])
}

/// Sort ascending most of the time (how correct answers are written), shuffle otherwise.
pub(crate) fn shuffle_if(rng: &mut dyn RngCore, f: &mut [u64]) {
    if index(rng, 4) == 0 {
        shuffle(rng, f);
    } else {
        f.sort_unstable();
    }
}
