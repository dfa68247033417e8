//! Exact rational numbers with overflow checks, for evaluating Countdown expressions.

/// `num / den` in lowest terms with `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rational {
    num: i128,
    den: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl Rational {
    /// The integer `v`.
    pub fn int(v: i64) -> Self {
        Rational {
            num: i128::from(v),
            den: 1,
        }
    }

    /// `num / den` reduced; `None` if `den == 0`.
    pub fn new(num: i128, den: i128) -> Option<Self> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den);
        let (mut n, mut d) = (num / g, den / g);
        if d < 0 {
            n = n.checked_neg()?;
            d = d.checked_neg()?;
        }
        Some(Rational { num: n, den: d })
    }

    /// Numerator (sign carrier).
    pub fn numer(self) -> i128 {
        self.num
    }

    /// Denominator (positive).
    pub fn denom(self) -> i128 {
        self.den
    }

    /// The value as an `i64` if it is an integer in range.
    pub fn to_i64(self) -> Option<i64> {
        if self.den == 1 {
            i64::try_from(self.num).ok()
        } else {
            None
        }
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, o: Self) -> Option<Self> {
        let n = self
            .num
            .checked_mul(o.den)?
            .checked_add(o.num.checked_mul(self.den)?)?;
        Rational::new(n, self.den.checked_mul(o.den)?)
    }

    /// `self − other`, `None` on overflow.
    pub fn checked_sub(self, o: Self) -> Option<Self> {
        self.checked_add(Rational {
            num: o.num.checked_neg()?,
            den: o.den,
        })
    }

    /// `self × other`, `None` on overflow.
    pub fn checked_mul(self, o: Self) -> Option<Self> {
        Rational::new(self.num.checked_mul(o.num)?, self.den.checked_mul(o.den)?)
    }

    /// `self ÷ other`, `None` on overflow or division by zero.
    pub fn checked_div(self, o: Self) -> Option<Self> {
        if o.num == 0 {
            return None;
        }
        Rational::new(self.num.checked_mul(o.den)?, self.den.checked_mul(o.num)?)
    }
}
