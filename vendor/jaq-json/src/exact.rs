//! Exact decimal arithmetic (a patch of eventscope's, not upstream jaq).
//!
//! A number literal with a fraction (`715.05`) is kept by jaq as its text (`Num::Dec`), but
//! upstream jaq turns it into a binary float before any arithmetic, so money added in a
//! reducer drifts (`700.00 + 15.05` gives `715.0499999999998`). Here `+`, `-`, `*` and
//! comparisons between decimals and integers are computed exactly, as Python's `Decimal`
//! does: a sum keeps the finer of the two scales (`0.10 + 0.20` is `0.30`), a product adds
//! them, and the result is written as `str(Decimal)` writes it. Everything else (division,
//! a float operand, builtins such as `floor`) still goes through `f64`, exactly as before.
//!
//! Bounds keep this from ever allocating more than a float would need: a decimal with more
//! than `MAX_DIGITS` digits or an exponent beyond `MAX_EXPONENT`, or a result past them,
//! falls back to the float path.
use crate::Num;
use alloc::string::String;
use core::cmp::Ordering;
use num_bigint::{BigInt, Sign};

const MAX_DIGITS: usize = 120;
const MAX_EXPONENT: i64 = 400;

/// `coefficient * 10^exponent`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Decimal {
    coefficient: BigInt,
    exponent: i64,
}

impl Decimal {
    /// Reads a JSON number's text (`-12.50`, `1E+3`, `2.5e-7`); `None` for anything else,
    /// and for numbers too long or too far from 1 to be worth keeping exact.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], parse_exponent(&rest[at + 1..])?),
            None => (rest, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = whole.len() + fraction.len();
        let all_digits = whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit());
        if digits == 0 || digits > MAX_DIGITS || !all_digits || whole.is_empty() {
            return None;
        }
        let mut text = String::with_capacity(digits + 1);
        if negative {
            text.push('-');
        }
        text.push_str(whole);
        text.push_str(fraction);
        let coefficient = BigInt::parse_bytes(text.as_bytes(), 10)?;
        let exponent = exponent - fraction.len() as i64;
        (exponent.abs() <= MAX_EXPONENT).then_some(Self {
            coefficient,
            exponent,
        })
    }

    fn of(n: &Num) -> Option<Self> {
        let integer = |coefficient| {
            Some(Self {
                coefficient,
                exponent: 0,
            })
        };
        match n {
            Num::Int(i) => integer(BigInt::from(*i)),
            Num::BigInt(b) if b.bits() <= 400 => integer((**b).clone()),
            Num::Dec(text) => Self::parse(text),
            Num::BigInt(_) | Num::Float(_) => None,
        }
    }

    /// `self` and `other` with the same exponent (the smaller one).
    fn aligned(self, other: Self) -> Option<(BigInt, BigInt, i64)> {
        let exponent = self.exponent.min(other.exponent);
        let scale = |d: Self| -> Option<BigInt> {
            let shift = u32::try_from(d.exponent - exponent).ok()?;
            (shift as i64 <= 2 * MAX_EXPONENT).then(|| d.coefficient * BigInt::from(10).pow(shift))
        };
        Some((scale(self)?, scale(other)?, exponent))
    }

    pub(crate) fn add(self, other: Self) -> Option<Self> {
        let (x, y, exponent) = self.aligned(other)?;
        Self::bounded(x + y, exponent)
    }

    pub(crate) fn neg(self) -> Self {
        Self {
            coefficient: -self.coefficient,
            exponent: self.exponent,
        }
    }

    pub(crate) fn mul(self, other: Self) -> Option<Self> {
        Self::bounded(
            self.coefficient * other.coefficient,
            self.exponent + other.exponent,
        )
    }

    fn bounded(coefficient: BigInt, exponent: i64) -> Option<Self> {
        let digits = coefficient.magnitude().to_str_radix(10).len();
        (digits <= MAX_DIGITS && exponent.abs() <= MAX_EXPONENT).then_some(Self {
            coefficient,
            exponent,
        })
    }

    fn compare(self, other: Self) -> Option<Ordering> {
        let (x, y, _) = self.aligned(other)?;
        Some(x.cmp(&y))
    }

    /// The text Python's `str(Decimal)` gives: plain notation unless the exponent is
    /// positive or the number is smaller than 1e-6, then scientific (`1.5E+3`).
    pub(crate) fn to_text(&self) -> String {
        use alloc::format;
        let digits = self.coefficient.magnitude().to_str_radix(10);
        let sign = if self.coefficient.sign() == Sign::Minus {
            "-"
        } else {
            ""
        };
        let adjusted = self.exponent + digits.len() as i64 - 1;
        if self.exponent <= 0 && adjusted >= -6 {
            let point = digits.len() as i64 + self.exponent;
            if self.exponent == 0 {
                format!("{sign}{digits}")
            } else if point > 0 {
                let (whole, fraction) = digits.split_at(point as usize);
                format!("{sign}{whole}.{fraction}")
            } else {
                let zeros = "0".repeat((-point) as usize);
                format!("{sign}0.{zeros}{digits}")
            }
        } else {
            let (first, rest) = digits.split_at(1);
            let point = if rest.is_empty() { "" } else { "." };
            let exp_sign = if adjusted >= 0 { "+" } else { "" };
            format!("{sign}{first}{point}{rest}E{exp_sign}{adjusted}")
        }
    }
}

fn parse_exponent(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Whether an exact answer applies: a decimal on at least one side, and no float.
fn exact_operands(x: &Num, y: &Num) -> Option<(Decimal, Decimal)> {
    if !matches!(x, Num::Dec(_)) && !matches!(y, Num::Dec(_)) {
        return None;
    }
    Some((Decimal::of(x)?, Decimal::of(y)?))
}

/// `f(x, y)` computed exactly, as a decimal, where both are exact and one is a decimal.
pub(crate) fn exact_pair(x: &Num, y: &Num, f: fn(Decimal, Decimal) -> Option<Decimal>) -> Option<Num> {
    let (x, y) = exact_operands(x, y)?;
    let result = f(x, y)?;
    Some(Num::Dec(crate::Rc::new(result.to_text())))
}

/// Exact comparison where one side is a decimal and neither is a float.
pub(crate) fn exact_cmp(x: &Num, y: &Num) -> Option<Ordering> {
    let (x, y) = exact_operands(x, y)?;
    x.compare(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn dec(s: &str) -> Num {
        Num::Dec(crate::Rc::new(s.into()))
    }

    #[test]
    fn sums_keep_the_finer_scale() {
        assert_eq!((dec("700.00") + dec("15.05")).to_string(), "715.05");
        assert_eq!((dec("0.10") + dec("0.20")).to_string(), "0.30");
        assert_eq!((dec("0.1") + Num::Int(2)).to_string(), "2.1");
        assert_eq!((Num::Int(2) - dec("0.5")).to_string(), "1.5");
        assert_eq!((dec("1.25") * Num::Int(3)).to_string(), "3.75");
        assert_eq!((dec("1.5") * dec("1.5")).to_string(), "2.25");
        assert_eq!((dec("1E+2") + dec("1E+2")).to_string(), "2E+2");
        assert_eq!((dec("0.0000001") + dec("0")).to_string(), "1E-7");
        assert_eq!((dec("-3.25") + dec("3.25")).to_string(), "0.00");
    }

    #[test]
    fn comparisons_are_exact() {
        assert!(dec("0.30") == dec("0.3"));
        assert!(dec("0.1") + dec("0.2") == dec("0.3"));
        assert!(dec("2.0") == Num::Int(2));
        assert!(dec("0.10000000000000000001") > dec("0.1"));
    }

    #[test]
    fn floats_and_huge_values_fall_back() {
        assert!(matches!(dec("0.1") + Num::Float(0.2), Num::Float(_)));
        assert!(matches!(dec("1e999999") + dec("1"), Num::Float(_)));
        assert!(matches!(dec("1e400") * dec("1e400"), Num::Float(_)));
        assert!(matches!(dec("1.5") / Num::Int(3), Num::Float(_)));
    }
}
