//! JSON numbers as exact decimals: money stays `120.10`, never a float's `120.09999…`.

use super::columns::DECIMAL_DIGITS;

/// A number as `digits × 10^-scale`, exactly as its JSON text wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    digits: i128,
    scale: u8,
}

/// The most fraction digits a decimal column gets; numbers with more stay JSON.
pub const MAX_SCALE: u8 = 18;

impl Decimal {
    /// Reads a JSON number's text (`-12.50`, `1.5e3`), or `None` where it needs more
    /// than 38 digits or more than [`MAX_SCALE`] fraction digits.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (negative, mantissa) = match mantissa.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, mantissa),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() || !(whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let all: String = whole.chars().chain(fraction.chars()).collect();
        let all = all.trim_start_matches('0');
        let mut scale = i32::try_from(fraction.len()).ok()? - exponent;
        let mut digits: String = all.to_string();
        // Trailing zeros of the fraction are kept (120.10 has scale 2) unless the
        // exponent leaves a negative scale, which becomes zeros of the whole part.
        if scale < 0 {
            digits.extend(std::iter::repeat_n('0', usize::try_from(-scale).ok()?));
            scale = 0;
        }
        if digits.len() > DECIMAL_DIGITS as usize || scale > i32::from(MAX_SCALE) {
            return None;
        }
        let mut n: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        if negative {
            n = -n;
        }
        Some(Decimal {
            digits: n,
            scale: u8::try_from(scale).ok()?,
        })
    }

    pub fn scale(self) -> u8 {
        self.scale
    }

    /// Digits left of the point.
    pub fn whole_digits(self) -> u32 {
        let whole = self.digits.unsigned_abs() / 10u128.pow(self.scale.into());
        if whole == 0 {
            0
        } else {
            whole.ilog10() + 1
        }
    }

    /// The value counted in units of `10^-scale`, where that fits 38 digits.
    pub fn unscaled(self, scale: u8) -> Option<i128> {
        let shift = scale.checked_sub(self.scale)?;
        let n = self.digits.checked_mul(10i128.checked_pow(shift.into())?)?;
        (n.unsigned_abs() < 10u128.pow(DECIMAL_DIGITS)).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_digits_a_json_number_was_written_with() {
        let d = Decimal::parse("120.10").unwrap();
        assert_eq!((d.scale(), d.unscaled(2)), (2, Some(12010)));
        assert_eq!(d.unscaled(4), Some(1_201_000));
        assert_eq!(d.unscaled(1), None);
        let d = Decimal::parse("-0.5").unwrap();
        assert_eq!(
            (d.scale(), d.unscaled(3), d.whole_digits()),
            (1, Some(-500), 0)
        );
        let d = Decimal::parse("1.5e3").unwrap();
        assert_eq!(
            (d.scale(), d.unscaled(0), d.whole_digits()),
            (0, Some(1500), 4)
        );
        let d = Decimal::parse("25E-3").unwrap();
        assert_eq!((d.scale(), d.unscaled(3)), (3, Some(25)));
        assert_eq!(Decimal::parse("1e40"), None);
        assert_eq!(Decimal::parse("0.0000000000000000001"), None);
        assert_eq!(Decimal::parse("12x"), None);
        let big = "9".repeat(38);
        assert_eq!(Decimal::parse(&big).unwrap().whole_digits(), 38);
        assert_eq!(Decimal::parse(&"9".repeat(39)), None);
    }
}
